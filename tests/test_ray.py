"""Indexing on a local Ray cluster: the same index as in-process, a killed worker or coordinator
still ends complete and duplicate-free, and a third-party plugin runs on the workers unchanged.

The cluster is started by the tests (``ray.init(num_cpus=2)``); the stores are SQLite and the
PostgreSQL on 127.0.0.1:5432. Plugins: the built-in image and text modalities, the fake
HashEmbedder from ``mmsearch.testing``, and tests/ray_plugin.py (a ``.note`` modality).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy
from conftest import tagged_png

import mmsearch
from mmsearch.testing import fake_plugin

ray = pytest.importorskip("ray", reason="pip install 'mmsearch[ray]'")
pytestmark = pytest.mark.slow  # each test starts a local Ray cluster (10-25 s)

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local two-CPU cluster whose workers can import tests/ray_plugin.py; yields its address."""
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    os.environ["RAY_BACKEND_LOG_LEVEL"] = "fatal"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture
def plugin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMSEARCH_PLUGINS", "ray_plugin")
    monkeypatch.syspath_prepend(str(TESTS))


def make_library(root: Path, notes: int = 6) -> Path:
    lib = root / "library"
    (lib / "photos").mkdir(parents=True)
    (lib / "notes").mkdir()
    for name, words, colour in [("cat", "cat kitten", (200, 120, 40)), ("rocket", "rocket launch", (30, 30, 200)),
                                ("beach", "beach sand sea", (230, 210, 150))]:
        tagged_png(lib / "photos" / f"{name}.png", words, colour)
    (lib / "photos" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    (lib / "pasta.txt").write_text("Boil salted water and add the spaghetti.\n")
    for n in range(notes):
        (lib / "notes" / f"n{n:02d}.note").write_text(f"note {n} about volcanoes\nsecond line {n} about rivers\n")
    return lib


def snapshot(engine: mmsearch.Engine) -> dict[str, object]:
    """Everything an index holds, keyed by path rather than by row id."""
    with engine.db.connect() as conn:
        media = sorted(conn.execute(sqlalchemy.text(
            "SELECT relpath, status, error, modality, content_hash FROM media")).all())
        segments = sorted(conn.execute(sqlalchemy.text(
            "SELECT m.relpath, s.ordinal, s.kind, s.page, s.text FROM segments s JOIN media m ON m.id = s.media_id")).all())
        vectors = {
            (r.relpath, r.ordinal): np.frombuffer(r.vector, dtype=np.float32)
            for r in conn.execute(sqlalchemy.text(
                "SELECT m.relpath, s.ordinal, v.vector FROM vectors v JOIN segments s ON s.id = v.segment_id "
                "JOIN media m ON m.id = s.media_id"))
        }
    return {"media": media, "segments": segments, "vectors": vectors}


def assert_same_index(ray_index: dict, local_index: dict) -> None:
    assert ray_index["media"] == local_index["media"]
    assert ray_index["segments"] == local_index["segments"]
    assert ray_index["vectors"].keys() == local_index["vectors"].keys()
    for key, vector in local_index["vectors"].items():
        np.testing.assert_allclose(ray_index["vectors"][key], vector, atol=1e-6)


def assert_consistent(engine: mmsearch.Engine) -> None:
    """No duplicate segment or vector, and the FAISS cache holds exactly what SQL holds."""
    with engine.db.connect() as conn:
        dupes = conn.execute(sqlalchemy.text(
            "SELECT media_id, ordinal, count(*) FROM segments GROUP BY media_id, ordinal HAVING count(*) > 1")).all()
        vectors = conn.scalar(sqlalchemy.text("SELECT count(*) FROM vectors"))
        segments = conn.scalar(sqlalchemy.text("SELECT count(*) FROM segments"))
    assert dupes == []
    assert vectors == segments
    assert sum(space.indexes.count() for space in engine.spaces) == vectors


def open_hash(index: Path, db_url: str | None) -> mmsearch.Engine:
    return mmsearch.Engine.open(index, db=db_url, embedders=["hash"], plugins=[fake_plugin()])


def test_ray_index_equals_in_process(cluster: str, plugin_env: None, tmp_path: Path, db_url: str | None) -> None:
    lib = make_library(tmp_path)
    with open_hash(tmp_path / "local", None) as local:
        local_summary = local.index([lib])
        expected = snapshot(local)
    with open_hash(tmp_path / "ray", db_url) as engine:
        summary = engine.index([lib], executor="ray", ray_address=cluster)
        assert (summary.added, summary.failed, summary.segments) == (local_summary.added, 1, local_summary.segments)
        assert summary.failures[0].path == "photos/broken.jpg" and "not a readable image" in (summary.failures[0].error or "")
        assert_same_index(snapshot(engine), expected)
        assert_consistent(engine)
        # The third-party modality's segments are searchable like any other.
        assert engine.search("volcanoes", k=3)[0].path.startswith("notes/")
        # A second run finds nothing to do and needs no worker.
        again = engine.index([lib], executor="ray", ray_address=cluster)
        assert (again.added, again.updated, again.unchanged) == (0, 0, local_summary.added + 1)


def test_a_killed_worker_is_retried(cluster: str, plugin_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = make_library(tmp_path, notes=16)
    trace = tmp_path / "trace"
    trace.mkdir()
    monkeypatch.setenv("MMSEARCH_TEST_NOTE_TRACE", str(trace))
    monkeypatch.setenv("MMSEARCH_TEST_NOTE_DELAY", "0.3")
    monkeypatch.setenv("MMSEARCH_RAY_FILES_PER_BATCH", "2")
    killed: list[int] = []

    def kill_first_worker() -> None:
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            for entry in trace.iterdir():
                pid = int(entry.name)
                if pid != os.getpid():
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_first_worker, daemon=True)
    killer.start()
    with open_hash(tmp_path / "ray", None) as engine:
        summary = engine.index([lib], executor="ray", ray_address=cluster)
        killer.join(timeout=5)
        assert killed, "no worker was seen reading a note"
        assert summary.added == 20 and summary.failed == 1
        assert_consistent(engine)
        monkeypatch.delenv("MMSEARCH_TEST_NOTE_DELAY")
        with open_hash(tmp_path / "local", None) as local:
            local.index([lib])
            assert_same_index(snapshot(engine), snapshot(local))


def test_a_killed_coordinator_resumes(cluster: str, plugin_env: None, tmp_path: Path, db_url: str | None) -> None:
    lib = make_library(tmp_path, notes=24)
    index = tmp_path / "ray"
    script = (
        "import sys, mmsearch\n"
        "from mmsearch.testing import fake_plugin\n"
        "e = mmsearch.Engine.open(sys.argv[1], db=sys.argv[2] or None, embedders=['hash'], plugins=[fake_plugin()])\n"
        "e.index([sys.argv[3]], executor='ray', ray_address=sys.argv[4])\n"
    )
    env = {**os.environ, "MMSEARCH_TEST_NOTE_DELAY": "0.4", "MMSEARCH_RAY_FILES_PER_BATCH": "1", "MMSEARCH_BATCH_SIZE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", script, str(index), db_url or "", str(lib), cluster], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open_hash(index, db_url) as probe:  # waits for the schema the child creates
        deadline = time.monotonic() + 120
        committed = 0
        while time.monotonic() < deadline and proc.poll() is None:
            with probe.db.connect() as conn:
                committed = conn.scalar(sqlalchemy.text("SELECT count(*) FROM media WHERE relpath LIKE 'notes/%'")) or 0
            if committed >= 3:
                break
            time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert 3 <= committed < 24, f"the coordinator should be killed mid-run (saw {committed} notes committed)"
    with open_hash(index, db_url) as engine:
        summary = engine.index([lib], executor="ray", ray_address=cluster)
        assert summary.added + summary.unchanged + summary.failed == 29 and summary.added >= 1
        assert_consistent(engine)
        with open_hash(tmp_path / "local", None) as local:
            local.index([lib])
            assert_same_index(snapshot(engine), snapshot(local))


def test_unreadable_file_on_a_worker_fails_alone(cluster: str, tmp_path: Path) -> None:
    lib = make_library(tmp_path, notes=0)
    victim = lib / "pasta.txt"
    with open_hash(tmp_path / "ray", None) as engine:
        # The file vanishes between the coordinator's walk and the worker's read, as it would
        # on a node that does not mount the library.
        real_index = engine.index

        def walk_then_unlink(paths, **kw):  # type: ignore[no-untyped-def]
            from mmsearch.indexing import scan

            original = scan.walk

            def walk(*args, **kwargs):  # type: ignore[no-untyped-def]
                found = list(original(*args, **kwargs))
                victim.unlink()
                return iter(found)

            scan.walk = walk
            try:
                return real_index(paths, **kw)
            finally:
                scan.walk = original

        summary = walk_then_unlink([lib], executor="ray", ray_address=cluster)
    reasons = {f.path: f.error or "" for f in summary.failures}
    assert "pasta.txt" in reasons and "library roots must be on a filesystem every node sees" in reasons["pasta.txt"]
    assert summary.added == 3  # the photos still went in


def test_ray_missing_gives_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    lib = make_library(tmp_path, notes=0)
    with open_hash(tmp_path / "idx", None) as engine, pytest.raises(mmsearch.MMSearchError, match=r"pip install 'mmsearch\[ray\]'"):
        engine.index([lib], executor="ray")


def test_cli_executor_ray(cluster: str, tmp_path: Path) -> None:
    lib = make_library(tmp_path, notes=0)
    env = {**os.environ, "MMSEARCH_PLUGINS": "mmsearch.testing.plugin", "MMSEARCH_EMBEDDERS": "hash"}
    out = subprocess.run([sys.executable, "-m", "mmsearch", "--index", str(tmp_path / "idx"), "index", str(lib),
                          "--executor", "ray", "--ray-address", cluster],
                         env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert "4 added" in out.stdout and "1 failed" in out.stdout and "Traceback" not in out.stderr


def test_a_worker_with_another_model_is_refused(cluster: str, tmp_path: Path) -> None:
    from mmsearch.testing.fakes import HashEmbedder

    class Drifting(HashEmbedder):
        """Reports a different model in every process, as a node with other weights would."""

        @property  # type: ignore[override]
        def model(self) -> str:
            return f"hash-{os.getpid()}"

        @model.setter
        def model(self, value: str) -> None:
            pass

    lib = make_library(tmp_path, notes=0)
    with mmsearch.Engine.open(tmp_path / "idx", embedders=["hash"], plugins=[fake_plugin(Drifting())]) as engine:
        with pytest.raises(mmsearch.MMSearchError, match=r"^Ray worker on .* where the index uses hash:hash-\d+; install the same"):
            engine.index([lib], executor="ray", ray_address=cluster)
