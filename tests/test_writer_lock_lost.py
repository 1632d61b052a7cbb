"""The PostgreSQL writer lock lost mid-run (its connection closed): the writer notices before it
commits anything more, a second writer never interleaves with it, and a lock that is already gone
at the end of a finished run is released quietly (outside probe, findings F1 and F2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import func, select

from conftest import PG_URL, REQUIRE_PG, OpenEngine, _pg_available, reset_pg, text_library

from mmsearch.store.errors import WriterLockLostError
from mmsearch.store.lock import writer_lock
from mmsearch.store.models import Media
from mmsearch.types import FileReport

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg() -> str:
    """A freshly emptied PostgreSQL database (the advisory lock is PostgreSQL's only)."""
    if not _pg_available():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (MMSEARCH_REQUIRE_POSTGRES=1) but {PG_URL} does not answer")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    reset_pg()
    return PG_URL


def kill_lock_backend(url: str) -> int:
    """What an administrator, a server restart or an idle timeout does to the lock's connection."""
    admin = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(sqlalchemy.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name LIKE :name"), {"name": f"mmsearch writer pid {os.getpid()} %"}).all())
    finally:
        admin.dispose()


def media_count(url: str) -> int:
    db = sqlalchemy.create_engine(url)
    try:
        with db.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(Media)) or 0)
    finally:
        db.dispose()


def test_lost_lock_stops_the_writer_and_a_second_writer_runs_alone(tmp_path: Path, pg: str, open_engine: OpenEngine) -> None:
    lib = text_library(tmp_path, "alpha", 12)
    engine = open_engine(db=pg, settings={"batch_size": 1, "workers": 1})
    second = sqlalchemy.create_engine(pg)
    held: list[object] = []
    at_takeover: list[int] = []

    def progress(rep: FileReport, done: int, total: int) -> None:
        if rep.action == "added" and not held:  # after the first commit: the lock's connection drops
            assert kill_lock_backend(pg) == 1
            lock = writer_lock(second, tmp_path, "second writer", timeout=5)
            lock.__enter__()  # the second writer gets the freed lock while the first still runs
            held.append(lock)
            at_takeover.append(media_count(pg))

    try:
        with pytest.raises(WriterLockLostError, match="writer lock was lost.*what was committed before is kept"):
            engine.index([lib], progress=progress)
        # Nothing was committed by the first writer after the second one took the lock.
        assert media_count(pg) == at_takeover[0] >= 1
    finally:
        for lock in held:
            lock.__exit__(None, None, None)  # type: ignore[attr-defined]
        second.dispose()
    summary = engine.index([lib])  # running again finishes the job
    assert summary.added + summary.unchanged == 12 and summary.failed == 0
    assert media_count(pg) == 12


def test_lock_gone_after_the_last_commit_keeps_the_finished_run(tmp_path: Path, pg: str, open_engine: OpenEngine) -> None:
    lib = text_library(tmp_path, "alpha", 3)
    engine = open_engine(db=pg, settings={"batch_size": 1, "workers": 1})

    def progress(rep: FileReport, done: int, total: int) -> None:
        if rep.action == "added" and done == total:  # everything committed; only the unlock is left
            assert kill_lock_backend(pg) == 1

    summary = engine.index([lib], progress=progress)  # no OperationalError from pg_advisory_unlock
    assert summary.added == 3 and media_count(pg) == 3
    assert engine.index([lib]).unchanged == 3  # and the lock is free again
