"""Damaged, full and read-only storage; caches that must never claim what they do not hold
(issue 10 items 1, 2, 8 and 9)."""

from __future__ import annotations

import ctypes
import errno
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import event, select

import mmsearch
from mmsearch.cli import cli
from mmsearch.search import bank as bank_module
from mmsearch.store.models import Vector
from mmsearch.testing import fake_plugin
from mmsearch.testing.fakes import HashEmbedder
from mmsearch.vectors import cache as cache_module
from mmsearch.vectors import backends
from mmsearch.vectors import delta as delta_module
from mmsearch.vectors import faiss_index
from mmsearch.vectors.faiss_index import VectorIndex

from conftest import OpenEngine, cache_ids, text_library


def _sql_ids(engine: mmsearch.Engine) -> list[int]:
    with engine.db.connect() as conn:
        return sorted(conn.scalars(select(Vector.segment_id)))


def _reopen(index: Path) -> mmsearch.Engine:
    return mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()], settings={"search.min_score": 0})


# -- item 1: the cache stamp -------------------------------------------------------------------


def test_two_engines_writing_in_turn_leave_a_whole_cache(tmp_path: Path, open_engine: OpenEngine) -> None:
    """Engine B opened before A wrote; B's cache must not be stamped with A's writes it never got."""
    lib_a, lib_b = text_library(tmp_path, "alpha", 12), text_library(tmp_path, "bravo", 12)
    first, second = open_engine(), open_engine()
    first.index([lib_a])
    second.index([lib_b])
    first.close()
    second.close()
    with _reopen(tmp_path / "index") as engine:
        assert cache_ids(engine) == _sql_ids(engine)
        assert len(_sql_ids(engine)) == 24
        assert {h.path for h in engine.search("alpha document", k=24)} >= {p.name for p in lib_a.iterdir()}


def test_commits_interleaved_without_the_lock_still_leave_a_true_stamp(
    tmp_path: Path, open_engine: OpenEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The generation a writer stamps comes from its own transaction: when another process
    committed in between, the writer rebuilds rather than stamp a state it does not hold."""
    lib_a, lib_b = text_library(tmp_path, "alpha", 6), text_library(tmp_path, "bravo", 6)
    first, second = open_engine(), open_engine()
    first.index([lib_a])
    monkeypatch.setattr(cache_module.SpaceIndexes, "refresh", lambda self: False)  # as if B never caught up
    second.index([lib_b])
    assert cache_ids(second) == _sql_ids(second)


# -- item 2: a damaged cache file --------------------------------------------------------------


def test_damaged_cache_file_is_detected_and_rebuilt(tmp_path: Path) -> None:
    lib = text_library(tmp_path, "alpha", 60)
    index = tmp_path / "index"
    with _reopen(index) as engine:
        engine.index([lib])
        before = [(h.path, round(h.score, 6)) for h in engine.search("alpha topic 3", k=10)]
    cache_file = next(index.glob("space-*.faiss"))
    data = bytearray(cache_file.read_bytes())
    data[200 : 200 + 8192] = b"\xff" * 8192  # float32 0xffffffff is NaN; the stamp is left alone
    cache_file.write_bytes(bytes(data))
    with _reopen(index) as engine:
        after = [(h.path, round(h.score, 6)) for h in engine.search("alpha topic 3", k=10)]
    assert after == before and all(math.isfinite(score) for _, score in after)
    assert backends.load(cache_file, 64) is not None, "the rebuilt cache was saved with a matching checksum"


def test_non_finite_scores_never_rank() -> None:
    """A damaged vector scores NaN or infinity; an infinite score would otherwise rank first."""
    index = VectorIndex(4, use_gpu=False)
    vectors = np.eye(4, dtype=np.float32)
    vectors[2] = [np.inf, 0, 0, 0]
    vectors[3] = np.nan
    index.add(np.array([10, 11, 12, 13]), vectors)
    for allowed in (None, np.array([10, 12, 13])):
        scores, ids = index.search(np.ones((1, 4), dtype=np.float32) / 2, 4, allowed)
        assert not {12, 13} & set(ids[0].tolist())
        assert np.isfinite(scores[0][ids[0] >= 0]).all() and 10 in ids[0]


def test_cache_file_replaced_without_its_stamp_is_not_trusted(tmp_path: Path) -> None:
    small, big = VectorIndex(4, use_gpu=False), VectorIndex(4, use_gpu=False)
    small.add(np.array([1]), np.eye(4, dtype=np.float32)[:1])
    big.add(np.array([1, 2]), np.eye(4, dtype=np.float32)[:2])
    small.save(tmp_path / "a.faiss", {"generation": 1})
    big.save(tmp_path / "b.faiss", {"generation": 2})
    shutil.copy(tmp_path / "b.faiss", tmp_path / "a.faiss")  # a crash between file and stamp
    assert VectorIndex.load(tmp_path / "a.faiss", 4) is None


# -- close() after reading ---------------------------------------------------------------------


def test_read_only_use_does_not_rewrite_the_cache(tmp_path: Path) -> None:
    lib = text_library(tmp_path, "alpha", 5)
    index = tmp_path / "index"
    with _reopen(index) as engine:
        engine.index([lib])
        engine.search("alpha")  # the query bank files are written on first search
    files = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in index.iterdir() if p.suffix != ".db" and "index.db" not in p.name}
    with _reopen(index) as engine:
        engine.search("alpha document")
        engine.status()
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in files} == files


# -- item 8: damaged, full and read-only storage -----------------------------------------------


@pytest.fixture
def cli_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_match_cut_off: None):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")
    monkeypatch.delenv("MMSEARCH_INDEX", raising=False)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), "--embedder", "hash", *args])

    return invoke


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("damage", ["header", "body"])
def test_damaged_database_gives_one_line_saying_how_to_recover(cli_run, tmp_path: Path, damage: str) -> None:  # type: ignore[no-untyped-def]
    lib = text_library(tmp_path, "alpha", 40)
    assert cli_run("index", str(lib)).exit_code == 0
    db_file = tmp_path / "index" / "index.db"
    data = bytearray(db_file.read_bytes())
    start = 0 if damage == "header" else 100  # the header, or everything after it
    data[start : start + (100 if damage == "header" else len(data))] = os.urandom(100 if damage == "header" else len(data) - 100)
    db_file.write_bytes(bytes(data))
    for command in (["search", "alpha"], ["status"], ["index", str(lib)]):
        line = _one_line_error(cli_run(*command))
        assert str(db_file) in line and "damaged" in line, line
        assert "restore it from a backup" in line and "index your library again" in line


def test_full_disk_is_named_not_hidden_by_the_cache_save(cli_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """SQLite's page limit gives the very error of a full disk; the cache save fails as it would."""
    from mmsearch.store import db as store_db

    real_create = store_db.create_db_engine

    def small_disk(url: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        engine = real_create(url, *args, **kwargs)
        event.listen(engine, "connect", lambda conn, _rec: conn.execute("PRAGMA max_page_count=40"))
        return engine

    def no_space(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    lib = text_library(tmp_path, "alpha", 400)
    monkeypatch.setattr(store_db, "SQLITE_PAGE_SIZE", 4096)  # 40 pages: 160 KiB, full after the schema
    monkeypatch.setattr(store_db, "create_db_engine", small_disk)
    monkeypatch.setattr(faiss_index, "_atomic_write", no_space)
    line = _one_line_error(cli_run("index", str(lib)))
    assert "database or disk is full" in line and "free space" in line, line


def _without_permission_override() -> None:
    """In the child, before exec: give up root's power to ignore file permissions
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a directory with mode 555 is read-only to it."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # PR_CAPBSET_DROP = 24
        if libc.prctl(24, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_read_only_index_can_be_searched_and_refuses_writes(tmp_path: Path) -> None:
    """Root ignores permissions: its search runs without that power, like any other user."""
    base = Path(tempfile.mkdtemp(prefix="mmsearch-ro-"))
    try:
        base.chmod(0o755)
        lib = text_library(base, "alpha", 5)
        index = base / "index"
        with _reopen(index) as engine:
            engine.index([lib])  # never searched: the query bank is not cached yet
        for path in [index, *index.iterdir()]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        before = sorted((p.name, p.stat().st_mtime_ns) for p in index.iterdir())

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            env = {k: v for k, v in os.environ.items() if not k.startswith("MMSEARCH_")}
            env.update(MMSEARCH_PLUGINS="mmsearch.testing.plugin", MMSEARCH_SEARCH_MIN_SCORE="0", HOME=str(base))
            try:
                return subprocess.run([sys.executable, "-c", "from mmsearch.cli import main; main()", "--index", str(index), *args],
                                      env=env, capture_output=True, text=True, timeout=120, cwd=base,
                                      preexec_fn=_without_permission_override if os.geteuid() == 0 else None)
            except subprocess.SubprocessError as exc:
                pytest.skip(f"cannot drop root's permission override here ({exc})")

        found = run("search", "alpha document 3", "-k", "2")
        assert found.returncode == 0 and found.stderr == "", found.stderr
        assert "alpha-003.txt" in found.stdout.splitlines()[0]
        assert run("status").returncode == 0
        refused = run("index", str(lib))
        assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1, refused.stderr
        assert refused.stderr.startswith("Error: ") and "read-only" in refused.stderr
        for command in (("db", "compact"), ("db", "upgrade")):  # their writer lock failed with a traceback
            refused = run(*command)
            assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1, (command, refused.stderr)
            assert refused.stderr.startswith("Error: ") and "read-only" in refused.stderr
        assert sorted((p.name, p.stat().st_mtime_ns) for p in index.iterdir()) == before, "a read-only index was written"
    finally:
        for path in base.rglob("*"):
            path.chmod(0o755)
        shutil.rmtree(base)


# -- item 9: the query bank's temp file --------------------------------------------------------


def test_two_first_searches_do_not_collide_on_the_bank_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second process saves and renames its bank while the first is between save and rename."""
    embedder = HashEmbedder()
    real_save = np.save
    nested: list[bool] = []

    def save_then_let_the_other_process_run(file, arr, *args, **kwargs):  # type: ignore[no-untyped-def]
        real_save(file, arr, *args, **kwargs)
        if not nested:
            nested.append(True)
            bank_module.QueryBank(tmp_path).vectors(1, embedder, "text")

    monkeypatch.setattr(np, "save", save_then_let_the_other_process_run)
    vectors = bank_module.QueryBank(tmp_path).vectors(1, embedder, "text")
    assert vectors is not None and nested
    np.testing.assert_array_equal(np.load(tmp_path / "bank-1-text.npy"), vectors)
    assert [p.name for p in tmp_path.iterdir()] == ["bank-1-text.npy"]


def test_a_cache_that_cannot_be_saved_is_reported_and_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """With SQL written and only the cache save failing, the run succeeds with a warning; the
    next open rebuilds the cache from SQL instead of trusting the old one."""
    lib = text_library(tmp_path, "alpha", 6)
    index = tmp_path / "index"
    with _reopen(index) as engine:
        engine.index([text_library(tmp_path, "seed", 2)])

    def no_space(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    with monkeypatch.context() as patch, _reopen(index) as engine:
        patch.setattr(faiss_index, "_atomic_write", no_space)
        patch.setattr(delta_module, "append", lambda path, records, valid: no_space(path, b""))  # the log is full too
        engine.index([lib])
    assert "could not save the vector cache" in caplog.text and "No space left on device" in caplog.text
    with _reopen(index) as engine:
        assert cache_ids(engine) == _sql_ids(engine) and len(_sql_ids(engine)) == 8


def test_a_new_index_reuses_the_bank_of_a_model_searched_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Embedding the query bank is most of a first search on a CPU; a second index of the same model
    takes it from the shared cache, and a model whose weights changed under the same name does not."""
    monkeypatch.setenv("MMSEARCH_BANK_DIR", str(tmp_path / "shared"))
    embedded: list[int] = []

    class Counting(HashEmbedder):
        def embed_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
            embedded.append(len(payloads))
            return super().embed_batch(kind, payloads)

    first = bank_module.QueryBank(tmp_path / "a").vectors(1, Counting(), "text")
    assert sum(embedded) == len(bank_module.bank_texts())
    embedded.clear()
    again = bank_module.QueryBank(tmp_path / "b").vectors(1, Counting(), "text")
    np.testing.assert_array_equal(first, again)
    assert sum(embedded) == 2  # only the two probe texts that check the cached copy

    class Retrained(Counting):
        def embed_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
            return np.roll(super().embed_batch(kind, payloads), 1, axis=1)  # new weights, same model name

    embedded.clear()
    changed = bank_module.QueryBank(tmp_path / "c").vectors(1, Retrained(), "text")
    assert sum(embedded) == 2 + len(bank_module.bank_texts()) and not np.allclose(changed, first)


def test_a_full_disk_does_not_stop_a_run_at_the_lock_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a full disk the first run said so in one line, every later one died with a traceback
    writing index.db.lock.json, a note that only tells a waiting writer who holds the lock."""
    real = Path.write_text

    def full(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.name.endswith(".lock.json"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a.txt").write_text("notes on sailing knots\n")
    with mmsearch.Engine.open(tmp_path / "index", embedders=["hash"], plugins=[fake_plugin()]) as engine:
        monkeypatch.setattr(Path, "write_text", full)
        assert engine.index([lib]).added == 1
        monkeypatch.undo()
    assert not list((tmp_path / "index").glob("*.lock.json"))


def test_a_damaged_database_given_with_db_is_never_advised_away_with_its_folder(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`--db sqlite:////tmp/notadb.txt` advised "delete the index directory /tmp"."""
    (tmp_path / "index").mkdir()
    elsewhere = tmp_path / "notes"
    elsewhere.mkdir()
    notadb = elsewhere / "notadb.txt"
    notadb.write_text("pasta recipes, not a database\n" * 200)
    for command in (["search", "--no-server", "pasta"], ["status"], ["index", str(elsewhere)]):
        line = _one_line_error(cli_run("--db", f"sqlite:///{notadb}", *command))
        assert f"the index database {notadb} is damaged or not a database" in line, line
        assert "check that --db" in line and "delete that one file" in line, line
        assert "delete the index directory" not in line and f"{elsewhere} " not in line, line
    assert notadb.read_text() == "pasta recipes, not a database\n" * 200


def test_a_read_only_mount_is_named_as_such_not_blamed_on_the_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside probe F10: on a read-only mount, even as root, the refusal said "this user cannot
    write", sending the user to check permissions instead of the mount."""
    from mmsearch.store import db as store_db
    from mmsearch.store.errors import ReadOnlyIndexError
    from mmsearch.testing import fake_plugin

    index = tmp_path / "index"
    with mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()]):
        pass
    real_statvfs = os.statvfs

    def read_only_mount(path: object) -> os.statvfs_result:  # what statvfs says of a `mount -o ro` file system
        fields = list(real_statvfs(path))  # type: ignore[arg-type]
        fields[8] |= os.ST_RDONLY  # f_flag
        return os.statvfs_result(fields)

    monkeypatch.setattr(os, "statvfs", read_only_mount)
    monkeypatch.setattr(store_db, "is_read_only", lambda *_: True)  # os.access as on that mount
    with mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()]) as engine:
        with pytest.raises(ReadOnlyIndexError, match=r"it is read-only \(the file system is mounted read-only\); searching works"):
            engine.index([tmp_path])


def test_engine_open_takes_on_wait_for_the_wait_of_creating_an_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Outside probe F9: creating a new index waits for another writer inside Engine.open, before
    the caller could set engine.on_wait, so the line went to stderr whatever the caller wanted."""
    import threading

    from mmsearch.store.db import create_db_engine, default_url
    from mmsearch.store.lock import writer_lock
    from mmsearch.testing import fake_plugin

    index = tmp_path / "index"
    index.mkdir()
    db = create_db_engine(default_url(index))
    heard: list[str] = []
    try:
        with writer_lock(db, index, "test"):
            release = threading.Timer(1.0, lambda: None)
            opener = threading.Thread(target=lambda: mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()],
                                                                          on_wait=heard.append).close())
            opener.start()
            release.start()
            release.join()
    finally:
        db.dispose()
    opener.join(30)
    assert len(heard) == 1 and heard[0].startswith(f"Waiting for mmsearch pid {os.getpid()}"), heard
    assert "Waiting" not in capsys.readouterr().err
