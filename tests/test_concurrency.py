"""Several processes on one index, on SQLite and PostgreSQL (issue 10 items 1 and 5).

Real processes running the real CLI, bounded in time. After every run: no vector lost, the FAISS
cache holds exactly the vectors SQL holds, and no traceback reached stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import cache_ids, text_library

import mmsearch
from mmsearch.store.db import create_db_engine, default_url
from mmsearch.store.models import Media, Vector
from mmsearch.testing import fake_plugin

HERE = Path(__file__).parent
LIMIT_S = 120  # per process: a hang fails the test instead of the whole run


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMSEARCH_")}
    env.update(MMSEARCH_PLUGINS="mmsearch.testing.plugin", MMSEARCH_EMBEDDERS="hash", MMSEARCH_BATCH_SIZE="4",
               MMSEARCH_SEARCH_MIN_SCORE="0", **extra)
    return env


def start(index: Path, db: str | None, *args: str, **env: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", "from mmsearch.cli import main; main()", "--index", str(index)]
    command += ["--db", db] if db else []
    return subprocess.Popen([*command, *args], env=cli_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=LIMIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"{proc.args!r} did not finish in {LIMIT_S} s; stderr: {err}")
    return proc.returncode, out, err


def assert_cache_equals_sql(index: Path, db: str | None, expected_vectors: int) -> None:
    """A fresh open loads the cache from disk (stamp current): it must hold exactly SQL's vectors."""
    with mmsearch.Engine.open(index, db=db, embedders=["hash"], plugins=[fake_plugin()]) as engine:
        with engine.db.connect() as conn:
            sql_ids = sorted(conn.scalars(select(Vector.segment_id)))
            relpaths = list(conn.scalars(select(Media.relpath)))
        held = cache_ids(engine)
    assert len(sql_ids) == expected_vectors, "a vector was lost or duplicated in SQL"
    assert len(relpaths) == len(set(relpaths)), "a file was recorded twice"
    assert held == sql_ids, f"the FAISS cache holds {len(held)} vectors, SQL {len(sql_ids)}"


def test_two_writers_into_one_index_lose_no_vector(tmp_path: Path, db_url: str | None) -> None:
    """Item 1: `index libA & index libB` into an existing index; afterwards both are searchable."""
    seed, lib_a, lib_b = text_library(tmp_path, "seed", 3), text_library(tmp_path, "alpha", 40), text_library(tmp_path, "bravo", 40)
    index = tmp_path / "index"
    assert finish(start(index, db_url, "index", str(seed)))[0] == 0  # the schema race has its own test
    procs = [start(index, db_url, "index", str(lib_a)), start(index, db_url, "index", str(lib_b))]
    for proc in procs:
        code, _, err = finish(proc)
        assert code == 0, err
        assert "Traceback" not in err
    assert_cache_equals_sql(index, db_url, 83)
    code, out, err = finish(start(index, db_url, "search", "bravo document", "-k", "40", "--json"))
    assert code == 0, err
    assert {Path(hit["path"]).name for hit in json.loads(out)} >= {p.name for p in lib_b.iterdir()}


def test_two_writers_on_one_library_both_succeed(tmp_path: Path, db_url: str | None) -> None:
    """Item 5: the same library twice at once: the second waits for the first, no UNIQUE crash."""
    seed, lib = text_library(tmp_path, "seed", 3), text_library(tmp_path, "alpha", 60)
    index = tmp_path / "index"
    assert finish(start(index, db_url, "index", str(seed)))[0] == 0  # the schema race has its own test
    procs = [start(index, db_url, "index", str(lib)) for _ in range(2)]
    results = [finish(proc) for proc in procs]
    for code, _, err in results:
        assert code == 0, err
        assert "Traceback" not in err
    outs = sorted(out for _, out, _ in results)
    assert "60 added" in outs[0] + outs[1] and "60 unchanged" in outs[0] + outs[1]
    assert_cache_equals_sql(index, db_url, 63)


@pytest.mark.slow  # nine processes for ~10 s: a stress test, not everyday work
def test_a_writer_and_eight_readers(tmp_path: Path, db_url: str | None) -> None:
    """Readers search throughout a write; none fails, none sees a cache stamped with state it lacks."""
    first, more = text_library(tmp_path, "alpha", 10), text_library(tmp_path, "bravo", 40)
    index = tmp_path / "index"
    assert finish(start(index, db_url, "index", str(first)))[0] == 0
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen([sys.executable, str(HERE / "concurrency_worker.py"), str(index), db_url or "", str(stop)],
                         env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    deadline = time.monotonic() + LIMIT_S
    while len(list(tmp_path.glob("ready-*"))) < len(readers):  # every reader is searching before the write starts
        assert time.monotonic() < deadline and all(r.poll() is None for r in readers), "a reader did not start"
        time.sleep(0.1)
    code, _, err = finish(start(index, db_url, "index", str(more)))
    stop.touch()
    assert code == 0 and "Traceback" not in err, err
    totals = {"searches": 0, "checks": 0, "violations": 0, "bad_scores": 0}
    for reader in readers:
        rc, out, rerr = finish(reader)
        assert rc == 0 and "Traceback" not in rerr, rerr
        counts = json.loads(out.strip().splitlines()[-1])
        for key in totals:
            totals[key] += counts[key]
    assert totals["searches"] >= 8 * 5 and totals["checks"] > 0
    assert totals["violations"] == 0, f"{totals['violations']} of {totals['checks']} checks saw a cache unlike its SQL state"
    assert totals["bad_scores"] == 0
    assert_cache_equals_sql(index, db_url, 50)


def test_schema_creation_race(tmp_path: Path, db_url: str | None) -> None:
    """Item 5: four processes create one new index at once; all succeed, one schema, one space."""
    lib = text_library(tmp_path, "alpha", 8)
    index = tmp_path / "index"
    procs = [start(index, db_url, "index", str(lib)) for _ in range(2)] + [start(index, db_url, "status") for _ in range(2)]
    for i, proc in enumerate(procs):
        code, _, err = finish(proc)
        assert "Traceback" not in err
        # status never creates an index: one that looks before the writers made it says so
        assert code == 0 or (i >= 2 and code == 1 and "there is no index at" in err), err
    assert_cache_equals_sql(index, db_url, 8)


def test_second_writer_names_the_holder_and_gives_up(tmp_path: Path, db_url: str | None) -> None:
    """Item 5: while the lock is held, a writer says who holds it and stops after lock_timeout
    with one line; a reader is not blocked."""
    from mmsearch.store.lock import writer_lock

    lib = text_library(tmp_path, "alpha", 5)
    index = tmp_path / "index"
    assert finish(start(index, db_url, "index", str(lib)))[0] == 0
    (lib / "late.txt").write_text("a late document\n")
    db = create_db_engine(db_url or default_url(index))
    try:
        with writer_lock(db, index, "test"):
            writer = start(index, db_url, "index", str(lib), MMSEARCH_LOCK_TIMEOUT="2")
            reader = start(index, db_url, "search", "alpha document", "-k", "3")
            t0 = time.monotonic()
            rcode, rout, rerr = finish(reader)
            code, out, err = finish(writer)
            waited = time.monotonic() - t0
    finally:
        db.dispose()
    assert rcode == 0 and len(rout.splitlines()) == 3, rerr
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith(f"Waiting for mmsearch pid {os.getpid()}"), err
    assert lines[-1].startswith("Error: cannot write to the index") and "lock_timeout" in lines[-1], err
    assert len(lines) == 2 and waited >= 2
