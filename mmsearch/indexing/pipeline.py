"""Extract and prepare files in worker threads, embed them in batches on the calling thread.

Decoding (Pillow, PyAV) releases the GIL, so threads keep the model fed without the cost of
processes; the window of files in flight is bounded, so memory does not grow with the library.
While the models load (``preload``), the first batch is decoded but not yet prepared.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..embedder import Embedder
from ..errors import EmbedError, ExtractError, MMSearchError, PluginError
from ..modality import Modality, describe_exception
from ..paths import storable
from ..types import Segment, Source
from . import quiet
from .preload import Preload
from .scan import Found, Known, file_hash

FLUSH_SECONDS = 2.0  # write at least this often, so progress and crash-safety keep pace


@dataclass
class Job:
    found: Found
    modality: Modality
    old: Known | None = None
    content_hash: str | None = None
    #: (source, modality name, segment) -> segments other plugins add (the ``extra_segments`` hook)
    derive: Callable[[Source, str, Segment], list[Segment]] | None = None


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
        pending = 0
        for segment in job.modality.segments(source):
            if cancel is not None and cancel.is_set():
                raise Cancelled(found.relpath)
            found_here = [segment, *(job.derive(source, job.modality.name, segment) if job.derive is not None else ())]
            for one in found_here:
                if defer:
                    item.unprepared.append(one)
                else:
                    _prepare_into(item, one, embedders)
            pending += len(found_here)
            if job.modality.streaming and pending >= stream_chunk:
                _embed_together([item], embedders)
                pending = 0
    return item


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


def run(
    jobs: Iterable[Job],
    embedders: Sequence[Embedder],
    write: Callable[[list[Extracted]], None],
    workers: int,
    batch_segments: int,
    models: Preload | None = None,
) -> None:
    """Extract ``jobs`` in ``workers`` threads, embed and ``write`` them in batches, in job order.

    ``models``: the embedders' models still loading in the background; files are extracted
    meanwhile, and nothing is embedded or written before ``models.wait()`` has returned."""
    with quiet.routed_to_files():  # what decoders warn about goes to the file's record, not stderr
        _run(jobs, embedders, write, workers, batch_segments, models)


def _run(
    jobs: Iterable[Job],
    embedders: Sequence[Embedder],
    write: Callable[[list[Extracted]], None],
    workers: int,
    batch_segments: int,
    models: Preload | None,
) -> None:
    window: deque[Future[Extracted]] = deque()
    todo = iter(jobs)
    # Once the model runs, keep a whole batch decoding while it embeds the current one: with a
    # few files ahead only, the decode threads idled during each batch's inference and the model
    # then waited for the next batch to be decoded (rclip bench: ~1.5 of 2 cores busy).
    ahead = max(2, workers * 2)
    steady = max(ahead, batch_segments + workers)
    loading = models is not None
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="mmsearch-extract")
    cancel = threading.Event()

    def top_up() -> None:
        # While the models load, the first batch fills up (unprepared) behind a small window:
        # payloads held unprepared are up to 896 px, and what decoding holds adds to the model
        # load's own peak (rclip bench: ~+150 MB peak RSS). Prepared payloads are small.
        while len(window) < (ahead if loading else steady):
            job = next(todo, None)
            if job is None:
                return
            window.append(pool.submit(extract, job, embedders, loaded=models.loaded if models is not None else None, cancel=cancel))

    def flush(batch: list[Extracted]) -> None:
        nonlocal loading
        if loading and models is not None:
            models.wait()
            loading = False
        list(pool.map(lambda item: finish(item, embedders), [item for item in batch if item.unprepared]))
        embed(batch, embedders)
        write(batch)

    try:
        top_up()
        batch: list[Extracted] = []
        pending_segments, last_flush = 0, time.monotonic()
        while window:
            item = window.popleft().result()
            top_up()
            batch.append(item)
            pending_segments += len(item.segments) + len(item.unprepared)
            # A time-driven flush while the models load would only wait for them, idling the decoders.
            if pending_segments >= batch_segments or (not loading and time.monotonic() - last_flush > FLUSH_SECONDS):
                flush(batch)
                batch, pending_segments, last_flush = [], 0, time.monotonic()
        if batch:
            flush(batch)
        if loading and models is not None:  # no file reached a batch: the models' verdict still stands
            models.wait()
    except BaseException:
        cancel.set()  # files being extracted stop at their next segment
        pool.shutdown(wait=True, cancel_futures=True)  # a failed load stops now, not after the window
        raise
    pool.shutdown(wait=True)
