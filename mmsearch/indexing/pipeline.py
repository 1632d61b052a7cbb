"""Extract and prepare files in worker threads, embed them in batches on the calling thread.

Decoding (Pillow, PyAV) releases the GIL, so threads keep the model fed without the cost of
processes; the window of files in flight is bounded, so memory does not grow with the library.
While the models load (``preload``), the first batch is decoded but not yet prepared.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..embedder import Embedder
from ..errors import EmbedError, ExtractError, MMSearchError, PluginError
from ..modality import Modality, describe_exception
from ..paths import storable
from ..settings import env_name
from ..types import Segment, Source
from . import quiet
from .preload import Preload
from .scan import Found, Known, file_hash

FLUSH_SECONDS = 2.0  # write at least this often, so progress and crash-safety keep pace
POLL_SECONDS = 0.5  # how often the run looks whether the file it waits on is over its time limit
#: Defaults of the settings that bound what one file may cost (README "Settings").
MAX_SEGMENTS = 100_000
MAX_SEGMENT_CHARS = 1_000_000


@dataclass
class Job:
    found: Found
    modality: Modality
    old: Known | None = None
    content_hash: str | None = None
    #: (source, modality name, segment) -> segments other plugins add (the ``extra_segments`` hook)
    derive: Callable[[Source, str, Segment], list[Segment]] | None = None
    #: most segments one file may yield (0: no limit): a plugin yielding forever grew memory
    #: without bound until the machine ran out
    max_segments: int = 0
    #: most characters in one segment's text (0: no limit): a 12 MB segment came back in full in
    #: every search result that cited it
    max_chars: int = 0
    #: set when the run gives up waiting on this file (its time limit): it stops at its next segment
    abandoned: threading.Event = field(default_factory=threading.Event)
    #: when a worker began reading it (time.monotonic()), for the per-file time limit
    started: float | None = None


@dataclass
class Extracted:
    job: Job
    content_hash: str = ""
    segments: list[Segment] = field(default_factory=list)
    # per embedder: prepared payloads aligned with segments (None where it takes not that kind)
    prepared: list[list[Any]] = field(default_factory=list)
    # per embedder: segment index -> vector
    vectors: list[dict[int, np.ndarray]] = field(default_factory=list)
    error: str | None = None
    #: the file was deleted or moved away between the scan and its reading: it is gone, not broken
    vanished: bool = False
    warnings: list[str] = field(default_factory=list)  # what decoders warned about this file
    # segments with their payloads, extracted before the models had loaded (see finish())
    unprepared: list[Segment] = field(default_factory=list)


class Cancelled(BaseException):
    """The run is stopping (Ctrl-C, an error elsewhere): a file being extracted gives up between
    segments. A BaseException, so that no per-file handler records it as the file's failure."""


def extract(job: Job, embedders: Sequence[Embedder], stream_chunk: int = 64, loaded: threading.Event | None = None,
            cancel: threading.Event | None = None) -> Extracted:
    """Extract and prepare one file. Segments of a streaming modality (hours of video) are
    embedded every ``stream_chunk`` segments as they come, so only vectors accumulate.

    ``loaded``: set once the embedders' models are loaded. Until then no embedder code runs here
    (its imports would race the loader's, and a third-party ``prepare`` may need its model):
    segments are kept unprepared for :func:`finish`, and a streaming file waits for the models.

    ``cancel``: once set, the file stops between segments (:class:`Cancelled`): one long file
    (hours of audio, megabytes of text) must not hold up Ctrl-C for minutes."""
    found = job.found
    if found.error is not None:
        return Extracted(job, error=found.error)
    item = Extracted(job, prepared=[[] for _ in embedders], vectors=[{} for _ in embedders])
    defer = loaded is not None and not loaded.is_set()
    if defer and job.modality.streaming and loaded is not None:  # it embeds as it goes
        while not loaded.wait(0.5):
            if cancel is not None and cancel.is_set():
                raise Cancelled(found.relpath)
        defer = False
    with _failing_the_file(item):
        item.content_hash = job.content_hash or file_hash(found.path)
        source = Source(path=found.path, relpath=found.relpath, size=found.size)
        pending = count = 0
        for segment in job.modality.segments(source):
            if (cancel is not None and cancel.is_set()) or job.abandoned.is_set():
                raise Cancelled(found.relpath)
            found_here = [segment, *(job.derive(source, job.modality.name, segment) if job.derive is not None else ())]
            count += len(found_here)
            if job.max_segments and count > job.max_segments:
                raise ExtractError(found.relpath, f"{job.modality.label} yielded more than {job.max_segments} segments; "
                                                  f"if the file really holds that many, raise the setting max_segments "
                                                  f"(env {env_name('max_segments')})")
            for one in found_here:
                _check_size(job, one)
                if defer:
                    item.unprepared.append(one)
                else:
                    _prepare_into(item, one, embedders)
            pending += len(found_here)
            if job.modality.streaming and pending >= stream_chunk:
                _embed_together([item], embedders)
                pending = 0
    return item


def _check_size(job: Job, segment: Segment) -> None:
    """Fail the file when one segment's text is over ``max_chars``: the embedder reads only its
    start, and search results would carry all of it."""
    if not job.max_chars:
        return
    for what, value in (("text payload", segment.payload), ("text", segment.text)):
        if isinstance(value, str) and len(value) > job.max_chars:
            raise ExtractError(job.found.relpath, f"{job.modality.label} yielded a segment whose {what} holds {len(value):,} "
                                                  f"characters, over the limit of {job.max_chars:,}: split it into several "
                                                  f"segments (mmsearch.chunking), or raise the setting max_segment_chars "
                                                  f"(env {env_name('max_segment_chars')})")


def finish(item: Extracted, embedders: Sequence[Embedder]) -> Extracted:
    """Prepare what :func:`extract` left unprepared while the models were loading."""
    unprepared, item.unprepared = item.unprepared, []
    if item.error is None:
        with _failing_the_file(item):
            for segment in unprepared:
                _prepare_into(item, segment, embedders)
    return item


@contextmanager
def _failing_the_file(item: Extracted) -> Iterator[None]:
    """What a broken file raises becomes its error; a model or store that is down stops the run."""
    quiet.begin(item.job.found.relpath, item.warnings)  # this thread reads this file: decoders' warnings are its
    try:
        yield
    except ExtractError as exc:
        item.error = exc.reason
    except OSError as exc:
        item.error = f"cannot read file: {exc.strerror or exc}"
        item.vanished = isinstance(exc, FileNotFoundError) and not os.path.lexists(item.job.found.path)
    except _PrepareError as exc:
        item.error = str(exc)
    except (PluginError, EmbedError) as exc:  # a plugin broke the contract on this file: it fails alone
        item.error = str(exc)
    except MMSearchError:
        raise
    except _EmbedderFailed as exc:  # a streamed chunk that breaks the model fails its file only
        item.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - any other bug while reading this file fails it alone
        item.error = f"reading failed: {describe_exception(exc)}"
    except SystemExit as exc:  # sys.exit() in a plugin's hook (extra_segments, prepare) ended the run silently
        item.error = f"a plugin called sys.exit({exc.code!r}) while reading it"
    except KeyboardInterrupt:
        if threading.current_thread() is threading.main_thread():
            raise  # a real Ctrl-C
        item.error = "a plugin raised KeyboardInterrupt while reading it"  # Ctrl-C only reaches the main thread
    finally:
        quiet.end()
    if item.error is not None:
        item.error = storable(item.error)
        item.unprepared = []


class _PrepareError(Exception):
    pass


class _EmbedderFailed(Exception):
    pass


def _prepare_into(item: Extracted, segment: Segment, embedders: Sequence[Embedder]) -> None:
    for e, embedder in enumerate(embedders):
        try:
            ready = embedder.prepare(segment.kind, segment.payload) if embedder.accepts(segment.kind) else None
        except Exception as exc:  # noqa: BLE001 - a payload the embedder cannot take fails its file only
            raise _PrepareError(f"{embedder.name} cannot prepare it: {describe_exception(exc)}") from exc
        item.prepared[e].append(ready)
    # The payload is prepared now; keep the segment without the decoded original.
    item.segments.append(Segment(segment.kind, None, segment.locator, segment.text, segment.meta))


def embed(batch: list[Extracted], embedders: Sequence[Embedder]) -> None:
    """Fill ``vectors`` for every file in ``batch``; a file whose payloads break a model fails alone."""
    ok = [item for item in batch if item.error is None]
    try:
        _embed_together(ok, embedders)
    except MMSearchError as exc:
        if not isinstance(exc, EmbedError):  # a model that cannot load, a store that is down: stop
            raise
        _embed_one_by_one(ok, embedders)
    except Exception:  # noqa: BLE001 - find the file at fault instead of failing the batch
        _embed_one_by_one(ok, embedders)


def _embed_one_by_one(items: list[Extracted], embedders: Sequence[Embedder]) -> None:
    for item in items:
        try:
            _embed_together([item], embedders)
        except EmbedError as exc:  # NaN, a wrong shape: what the embedder returned for this file
            item.error = storable(str(exc))
        except MMSearchError:
            raise
        except _EmbedderFailed as exc:
            item.error = storable(str(exc))
        except Exception as exc:  # noqa: BLE001
            item.error = f"embedding failed: {describe_exception(exc)}"


def _embed_together(items: list[Extracted], embedders: Sequence[Embedder]) -> None:
    for e, embedder in enumerate(embedders):
        groups: dict[str, list[tuple[Extracted, int]]] = {}
        for item in items:
            for i, payload in enumerate(item.prepared[e]):
                if payload is not None:
                    groups.setdefault(item.segments[i].kind, []).append((item, i))
        for kind, refs in groups.items():
            try:
                vectors = embedder.embed(kind, [item.prepared[e][i] for item, i in refs], prepared=True)
            except MMSearchError:
                raise
            except Exception as exc:  # the file's error names the embedder that broke on it
                raise _EmbedderFailed(f"embedder {embedder.name!r} failed: {describe_exception(exc)}") from exc
            for (item, i), vector in zip(refs, vectors):
                item.vectors[e][i] = vector
                item.prepared[e][i] = None  # embedded: free the tensor, and never embed it twice


class _Pool:
    """Worker threads for extraction, as daemons.

    ThreadPoolExecutor's threads are joined at shutdown and at interpreter exit: one plugin whose
    ``extract`` never returns kept Ctrl-C and SIGTERM from ending the run (the probe needed
    SIGKILL). A daemon thread stuck in plugin code is abandoned instead; the process exits.
    """

    def __init__(self, workers: int) -> None:
        self._tasks: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = queue.SimpleQueue()
        self._threads = 0
        for _ in range(max(1, workers)):
            self.add_worker()

    def add_worker(self) -> None:
        """One more thread: replaces one stuck in a file the run gave up on."""
        self._threads += 1
        threading.Thread(target=self._work, name=f"mmsearch-extract-{self._threads}", daemon=True).start()

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            future, call = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                future.set_exception(exc)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._tasks.put((future, lambda: fn(*args, **kwargs)))
        return future

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        return [future.result() for future in [self.submit(fn, item) for item in items]]

    def shutdown(self) -> None:
        """Stop the threads once they are idle; wait for none of them."""
        for _ in range(self._threads):
            self._tasks.put(None)


def run(
    jobs: Iterable[Job],
    embedders: Sequence[Embedder],
    write: Callable[[list[Extracted]], None],
    workers: int,
    batch_segments: int,
    models: Preload | None = None,
    time_limit: float = 0.0,
) -> None:
    """Extract ``jobs`` in ``workers`` threads, embed and ``write`` them in batches, in job order.

    ``models``: the embedders' models still loading in the background; files are extracted
    meanwhile, and nothing is embedded or written before ``models.wait()`` has returned.

    ``time_limit``: seconds one file may take to read (0: no limit); a file over it fails with
    that reason, and its thread is left behind (Python cannot stop a thread) and replaced."""
    with quiet.routed_to_files():  # what decoders warn about goes to the file's record, not stderr
        _run(jobs, embedders, write, workers, batch_segments, models, time_limit)


def _started(job: Job, fn: Callable[..., Extracted]) -> Callable[..., Extracted]:
    def call(*args: Any, **kwargs: Any) -> Extracted:
        job.started = time.monotonic()
        return fn(*args, **kwargs)

    return call


def _result(future: Future[Extracted], job: Job, time_limit: float) -> Extracted | None:
    """The file's result, or None once it has taken longer than ``time_limit`` to read. Waits in
    short steps: a wait without a timeout is where a hung plugin held the run."""
    while True:
        try:
            return future.result(timeout=POLL_SECONDS)
        except FutureTimeout:
            if time_limit and job.started is not None and time.monotonic() - job.started > time_limit:
                return None


def _run(
    jobs: Iterable[Job],
    embedders: Sequence[Embedder],
    write: Callable[[list[Extracted]], None],
    workers: int,
    batch_segments: int,
    models: Preload | None,
    time_limit: float,
) -> None:
    window: deque[tuple[Job, Future[Extracted]]] = deque()
    todo = iter(jobs)
    # Once the model runs, keep a whole batch decoding while it embeds the current one: with a
    # few files ahead only, the decode threads idled during each batch's inference and the model
    # then waited for the next batch to be decoded (rclip bench: ~1.5 of 2 cores busy).
    ahead = max(2, workers * 2)
    steady = max(ahead, batch_segments + workers)
    loading = models is not None
    pool = _Pool(workers)
    cancel = threading.Event()

    def top_up() -> None:
        # While the models load, the first batch fills up (unprepared) behind a small window:
        # payloads held unprepared are up to 896 px, and what decoding holds adds to the model
        # load's own peak (rclip bench: ~+150 MB peak RSS). Prepared payloads are small.
        while len(window) < (ahead if loading else steady):
            job = next(todo, None)
            if job is None:
                return
            loaded = models.loaded if models is not None else None
            window.append((job, pool.submit(_started(job, extract), job, embedders, loaded=loaded, cancel=cancel)))

    def flush(batch: list[Extracted], inline: bool = False) -> None:
        nonlocal loading
        if loading and models is not None:
            models.wait()
            loading = False
        unprepared = [item for item in batch if item.unprepared]
        if inline:  # the workers may be stuck in a plugin
            for item in unprepared:
                finish(item, embedders)
        else:
            pool.map(lambda item: finish(item, embedders), unprepared)
        embed(batch, embedders)
        write(batch)

    batch: list[Extracted] = []
    try:
        top_up()
        pending_segments, last_flush = 0, time.monotonic()
        while window:
            job, future = window[0]
            result = _result(future, job, time_limit)
            window.popleft()
            if result is None:
                job.abandoned.set()  # should it ever yield again, it stops there
                pool.add_worker()  # its thread stays stuck in the plugin: keep the pool its size
                result = Extracted(job, error=f"{job.modality.label} took longer than {time_limit:g} s to read it; "
                                              f"raise the setting extract_timeout (env {env_name('extract_timeout')}) "
                                              f"if it needs longer")
            top_up()
            batch.append(result)
            pending_segments += len(result.segments) + len(result.unprepared)
            # A time-driven flush while the models load would only wait for them, idling the decoders.
            if pending_segments >= batch_segments or (not loading and time.monotonic() - last_flush > FLUSH_SECONDS):
                flush(batch)
                batch, pending_segments, last_flush = [], 0, time.monotonic()
        if batch:
            flush(batch)
            batch = []
        if loading and models is not None:  # no file reached a batch: the models' verdict still stands
            models.wait()
    except KeyboardInterrupt:
        cancel.set()  # files being extracted stop at their next segment
        # "Files finished before this point are kept": those read but waiting for a file ahead
        # of them (one that hangs, one that is long) are written now, unless the models are
        # still loading (nothing may be written before they have).
        finished = batch + [f.result() for _, f in window if f.done() and f.exception() is None]
        models_ready = not loading or (models is not None and models.loaded.is_set())
        if finished and models_ready:  # a model that failed to load raises here instead: nothing is written
            flush(finished, inline=True)
        pool.shutdown()
        raise
    except BaseException:
        cancel.set()
        pool.shutdown()  # a failed load stops now, not after the window
        raise
    pool.shutdown()
