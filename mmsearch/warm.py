"""Open, in a background thread, the ONNX graphs the last search of an index opened.

A cold ``mmsearch search`` spends most of its time in two things that need not wait for each other:
the main thread importing the engine and opening the index (Python, ~0.8 s), and onnxruntime
building the text tower's session (native code that releases the GIL, ~0.7 s). Which graph a
query needs is only known once the index's space and its settings are resolved, which is the
import-heavy part. So a search remembers the graphs it opened (a small JSON file per index in the
user cache folder, never in the index: read-only use does not write the index), and the next search
of that index starts opening them at once, before it imports anything heavy (an index not searched
yet gets what the last search of any index opened).

Plugins open sessions through :func:`onnx_session`, which hands over a preloaded session when one
for the same file (path, size, modification time) and thread count is ready or in progress, and
otherwise opens one itself. A preload that fails or names a changed file is simply not used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = 1
LATEST = "latest.json"  # the last search's graphs, whatever the index: a guess for a new index
_lock = threading.Lock()
_pending: dict[tuple[str, int, int, int], Future[Any]] = {}
_opened: list[dict[str, Any]] = []  # what this process opened through onnx_session, in order
_remembered: list[dict[str, Any]] | None = None  # what this index's hint file held when start() read it
_stats = {"preloaded": 0, "opened": 0}
_thread: threading.Thread | None = None


def hint_dir() -> Path | None:
    """``MMSEARCH_WARM_DIR``, else the user cache folder (``None`` where there is none)."""
    if os.environ.get("MMSEARCH_WARM_DIR"):
        return Path(os.environ["MMSEARCH_WARM_DIR"]).expanduser()
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("mmsearch")) / "warm"
    except Exception:  # noqa: BLE001 - no home folder: nothing is preloaded, searches still work
        return None


def hint_file(index_dir: Path) -> Path | None:
    folder = hint_dir()
    if folder is None:
        return None
    digest = hashlib.blake2b(str(index_dir).encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()
    return folder / f"{digest}.json"


def _identity(path: Path, threads: int) -> tuple[str, int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (str(path), stat.st_size, stat.st_mtime_ns, threads)


def _create(path: str, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # ORT's warnings are about its graph rewrites, not the user's input
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def onnx_session(path: Path, threads: int) -> Any:
    """An ``onnxruntime.InferenceSession`` for ``path`` on the CPU with ``threads`` intra-op threads:
    the one a preload opened for this very file, else a new one."""
    key = _identity(path, threads)
    with _lock:
        future = _pending.pop(key, None) if key is not None else None
    session = None
    if future is not None:
        try:
            session = future.result()
            _stats["preloaded"] += 1
        except Exception as exc:  # noqa: BLE001 - open it here instead; a real fault recurs and is reported
            log.debug("preloading %s failed: %s", path, exc)
    if session is None:
        session = _create(str(path), threads)
        _stats["opened"] += 1
    if key is not None:
        entry = {"path": key[0], "size": key[1], "mtime_ns": key[2], "threads": threads}
        with _lock:
            if entry not in _opened:
                _opened.append(entry)
    return session


def _read(file: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(file.read_text("utf-8"))
        entries = data["onnx"] if data.get("format") == FORMAT else []
        return [e for e in entries if isinstance(e, dict) and {"path", "size", "mtime_ns", "threads"} <= set(e)]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return []


def start(index_dir: Path) -> None:
    """Begin opening, in one daemon thread, the graphs the last search of ``index_dir`` opened
    (those whose files are unchanged). Returns at once; never raises."""
    global _remembered
    file = hint_file(index_dir)
    _remembered = _read(file) if file is not None and file.is_file() else None
    # An index never searched yet (the first search after `mmsearch index`) most likely needs
    # what the last search of any index needed: same model, same graph. A wrong guess costs one
    # unused session opened in a spare thread; nothing is handed over that is not the file asked for.
    entries = _remembered if _remembered is not None else _read(file.with_name(LATEST)) if file is not None else []
    jobs: list[tuple[tuple[str, int, int, int], Future[Any]]] = []
    for entry in entries:
        try:
            key = _identity(Path(entry["path"]), int(entry["threads"]))
        except (TypeError, ValueError):
            continue
        if key is None or key[1:3] != (entry["size"], entry["mtime_ns"]):
            continue  # the graph was replaced or removed: whoever needs it will say so
        future: Future[Any] = Future()
        with _lock:
            if key in _pending:
                continue
            _pending[key] = future
        jobs.append((key, future))
    if not jobs:
        return
    # onnxruntime is imported here, in the main thread: two threads importing one package at once
    # can deadlock on its module locks. It costs ~0.1 s that the search pays anyway.
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        with _lock:
            for key, _ in jobs:
                _pending.pop(key, None)
        return

    def run() -> None:
        for key, future in jobs:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(_create(key[0], key[3]))
                except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for this graph
                    future.set_exception(exc)

    global _thread
    _thread = threading.Thread(target=run, name="mmsearch-warm", daemon=True)
    _thread.start()


def finish() -> None:
    """Wait for a preload still running (one the command never asked for): native code must not be
    building a session while the interpreter shuts down."""
    if _thread is not None:
        _thread.join()


def remember(index_dir: Path) -> None:
    """Record the graphs this process opened for the next search of ``index_dir`` (only when they
    differ from what :func:`start` found: an unchanged search writes nothing). Never raises."""
    with _lock:
        opened = list(_opened)
    if not opened or opened == _remembered:
        return
    file = hint_file(index_dir)
    if file is None:
        return
    data = json.dumps({"format": FORMAT, "index": str(index_dir), "onnx": opened})
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        for target in (file, file.with_name(LATEST)):
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.write_text(data, "utf-8")
            os.replace(tmp, target)
    except OSError as exc:
        log.debug("could not record what to preload for %s: %s", index_dir, exc)


def stats() -> dict[str, int]:
    """How many sessions this process took from a preload and how many it opened itself."""
    return dict(_stats)
