"""One indexing run: walk, plan, apply moves and deletions, then extract-embed-write the rest."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import delete, select, update
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from ..embedder import Embedder
from ..modality import Modality, over_size_limit
from ..plugins import Registry
from ..settings import parse_float
from ..store.models import Media, Root
from ..types import FileReport, IndexSummary
from . import pipeline, scan, survey, writer
from .preload import Preload

log = logging.getLogger("mmsearch.index")

#: progress(report, done, total): called once per file as its fate is settled, and with a
#: ``working`` report (``done`` unchanged) naming the file the run waits on next: files are
#: written in order, so an hour of audio at the head held the bar at "0/? scanning…".
ProgressFn = Callable[[FileReport, int, int], None]


@dataclass
class IndexContext:
    db: SqlEngine
    registry: Registry
    embedders: Sequence[Embedder]
    spaces: Sequence[writer.ActiveSpace]
    ignore: Callable[[Path], bool]
    workers: int
    batch_segments: int
    #: Extracts, embeds and writes the jobs: the in-process pipeline, or e.g. a RayRunner.
    runner: Callable[..., None] = pipeline.run


def index_paths(ctx: IndexContext, paths: Sequence[str | os.PathLike[str]], retry_failed: bool = False, progress: ProgressFn | None = None,
                reextract: bool = False) -> IndexSummary:
    started = time.monotonic()
    found, known = survey.survey(ctx, paths)
    # Deliberately not indexed (links out of the library, loops): reported with the reason on
    # every run, never stored, so a stored copy of such a path is removed. (What was stored below
    # an unreadable or emptied folder is kept: survey.survey leaves it out of ``known``.)
    skipped = [item for item in found if item.skip is not None]
    todo = scan.plan([item for item in found if item.skip is None], known, retry_failed)
    elsewhere: set[int] = set()  # media of vanished libraries matched by this run's new files
    if todo.new:  # a library folder moved away and indexed at its new place: its files, not copies of them
        before = len(todo.renamed)
        scan.match_moves(todo, survey.of_vanished_libraries(ctx, {f.size for f in todo.new}))
        elsewhere = {old.media_id for _, old in todo.renamed[before:]}
    # Read by a modality that is gone (its plugin uninstalled) but by another now: re-read by that
    # one. They stayed "unchanged" as the gone plugin's text (a .png kept as a third-party
    # plugin's text, unfindable by `--type image`) until --reextract.
    for f in todo.unchanged + [f for f, _ in todo.touched]:
        k = known.get((f.root_id, f.relpath))
        if k is not None and _orphaned(ctx, k) and ctx.registry.modality_for(f.path) is not None:
            todo.unchanged = [u for u in todo.unchanged if u is not f]
            todo.touched = [(t, o) for t, o in todo.touched if t is not f]
            todo.changed.append((f, k))
    if reextract:  # settings that change what a file yields (OCR, chunk size, audio model) reach every file
        todo.changed += [(f, known[(f.root_id, f.relpath)]) for f in todo.unchanged] + todo.touched
        todo.unchanged, todo.touched = [], []
    for item, old in list(todo.renamed):
        # Renamed to a name no plugin reads ("ski.txt" -> "ski.txt.bak") or past a size limit:
        # not that file under a new name, but one this index does not keep. Renamed to another
        # kind ("o.txt" -> "o.png"): read afresh by that kind's plugin, which may fail it, as a
        # fresh index would (the probe found the text still searchable as a "png").
        modality = ctx.registry.modality_for(item.path)
        other_kind = modality is not None and old.modality is not None and modality.name != old.modality
        if modality is None or other_kind or _over_limit(ctx, item, modality) is not None:
            todo.renamed.remove((item, old))
            todo.new.append(item)
            if old.media_id not in elsewhere:  # a vanished library's file (an unplugged drive's) stays
                todo.removed.append(old)
    counts = {"added": 0, "updated": 0, "unchanged": len(todo.unchanged), "removed": len(todo.removed),
              "renamed": len(todo.renamed), "failed": 0, "skipped": len(skipped), "segments": 0,
              "still_failing": sum(1 for f in todo.unchanged if (k := known.get((f.root_id, f.relpath))) is not None
                                   and k.status == "failed")}
    failures: list[FileReport] = []
    jobs: list[pipeline.Job] = []
    derive = ctx.registry.extra_segments if ctx.registry.adds_segments else None
    settings = ctx.registry.settings
    max_segments = settings.get_int("max_segments", pipeline.MAX_SEGMENTS, low=0)
    max_chars = settings.get_int("max_segment_chars", pipeline.MAX_SEGMENT_CHARS, low=0)
    time_limit = parse_float("extract_timeout", settings.get("extract_timeout", 0), low=0, origin=settings.origin("extract_timeout"))
    for item, old in [(f, None) for f in todo.new] + todo.changed:
        modality = ctx.registry.modality_for(item.path)
        too_big = _over_limit(ctx, item, modality) if modality is not None else None
        # Nothing to read: an empty .mp3 failed, an empty .flac or .txt was "added" with no segment
        # (a probe's find); one outcome for every kind, said on every run until the file fills.
        empty = EMPTY if modality is not None and item.size == 0 and item.error is None else None
        if modality is None or too_big is not None or empty is not None:
            counts["skipped"] += 1
            skipped.append(replace(item, skip=too_big or empty or unsupported(item.path)))
            if old is not None:  # its plugin is gone or it outgrew the limit: it can no longer be kept current
                todo.removed.append(old)
                counts["removed"] += 1
            continue
        jobs.append(pipeline.Job(item, modality, old, todo.hashes.get(item.path), derive,
                                 max_segments=max_segments, max_chars=max_chars))
    total = len(jobs) + len(todo.removed) + len(todo.renamed) + len(todo.touched) + len(todo.unchanged)
    done = 0

    def report(rep: FileReport) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(rep, done, total)

    def bookkeeping() -> None:
        _apply_bookkeeping(ctx, todo)
        for rep in (
            [FileReport(k.relpath, "removed") for k in todo.removed]
            + [FileReport(f.relpath, "renamed") for f, _ in todo.renamed]
            + [FileReport(f.relpath, "unchanged") for f in todo.unchanged]
            + [FileReport(f.relpath, "unchanged") for f, _ in todo.touched]
        ):
            report(rep)
        counts["unchanged"] += len(todo.touched)

    # A missing model fails before the index changes at all: the in-process pipeline decodes the
    # first files while the models load, and applies the bookkeeping and writes only once they
    # have. A no-op run loads none; a runner whose workers hold the models (Ray) loads none here.
    models: Preload | None = None
    loading = time.monotonic()
    if jobs and ctx.runner is pipeline.run:
        models = Preload(ctx.embedders, then=bookkeeping)
    else:
        if jobs and getattr(ctx.runner, "loads_models_here", True):
            for embedder in ctx.embedders:
                embedder.ensure_loaded()
        bookkeeping()
    load_seconds = time.monotonic() - loading

    written = 0

    def working() -> None:
        if progress is not None and written < len(jobs):
            progress(FileReport(jobs[written].found.relpath, "working"), done, total)

    def write(batch: list[pipeline.Extracted]) -> None:
        nonlocal written
        _write_isolated(ctx, batch)
        written += len(batch)
        for item in batch:
            if item.vanished:  # gone between the scan and its reading: not a failure, nothing to keep
                counts["removed"] += item.job.old is not None
                report(FileReport(item.job.found.relpath, "removed" if item.job.old else "vanished"))
                continue
            action = "failed" if item.error else ("updated" if item.job.old else "added")
            counts[action] += 1
            counts["segments"] += 0 if item.error else len(item.segments)
            rep = FileReport(item.job.found.relpath, action, item.error, len(item.segments))
            if item.error:
                failures.append(rep)
            report(rep)
        working()

    working()
    try:
        if models is not None:
            pipeline.run(jobs, ctx.embedders, write, ctx.workers, ctx.batch_segments, models, time_limit)
            load_seconds = models.seconds
        else:
            ctx.runner(jobs, ctx.embedders, write, ctx.workers, ctx.batch_segments)
    finally:
        for space in ctx.spaces:
            space.indexes.save()
    failures.extend(FileReport(item.relpath, "skipped", item.skip) for item in skipped)
    return IndexSummary(**counts, seconds=time.monotonic() - started, failures=tuple(failures), load_seconds=load_seconds)


def _write_isolated(ctx: IndexContext, batch: list[pipeline.Extracted]) -> None:
    """Write ``batch`` in one transaction; if the database refuses its content, write file by file
    so that one file it cannot store (a name or text it rejects) fails alone instead of the whole
    batch. A database that cannot be reached or written at all stops the run as before."""
    try:
        deltas = [_commit(ctx, batch)]
    except (SQLAlchemyError, ValueError) as exc:
        if _unavailable(exc):
            raise
        log.debug("batch write refused (%s); writing file by file", exc)
        deltas = [delta for item in batch if (delta := _commit_alone(ctx, item)) is not None]
    with Session(ctx.db) as session:  # the FAISS caches follow what was committed
        for delta in deltas:
            writer.apply_delta(session, ctx.spaces, delta)


def _commit_alone(ctx: IndexContext, item: pipeline.Extracted) -> writer.VectorDelta | None:
    try:
        return _commit(ctx, [item])
    except (SQLAlchemyError, ValueError) as exc:
        if _unavailable(exc):
            raise
        item.error = pipeline.storable(f"cannot be stored in the index database: {' '.join(str(exc).split())[:300]}")
        item.segments.clear()
    try:  # record the failure; if even that is refused, the run's summary still names the file
        return _commit(ctx, [item])
    except (SQLAlchemyError, ValueError) as exc:
        if _unavailable(exc):
            raise
        log.debug("%s: could not record the failure either (%s)", item.job.found.relpath, exc)
        return None


def _unavailable(exc: Exception) -> bool:
    """A database that is down, locked or full: no file's fault."""
    return isinstance(exc, OperationalError | InterfaceError)


def _commit(ctx: IndexContext, batch: list[pipeline.Extracted]) -> writer.VectorDelta:
    with Session(ctx.db) as session, session.begin():
        return writer.write_extracted(session, batch, ctx.spaces)


#: The start of the reason a file no plugin reads is skipped (the CLI groups these by extension).
UNSUPPORTED = "no installed plugin reads"
_HINTS = {".heic": "pip install pillow-heif", ".heif": "pip install pillow-heif"}


def unsupported(path: Path) -> str:
    suffix = path.suffix.lower()
    hint = _HINTS.get(suffix, "`mmsearch plugins` lists what each plugin reads")
    return f"{UNSUPPORTED} {suffix or 'files without an extension'}{' files' if suffix else ''} ({hint})"


EMPTY = "empty file (0 bytes): nothing to index until it has content"


def _orphaned(ctx: IndexContext, known: scan.Known) -> bool:
    """Recorded as read by a modality no installed plugin registers now."""
    return known.modality is not None and known.modality not in ctx.registry.modalities


def _over_limit(ctx: IndexContext, item: scan.Found, modality: Modality) -> str | None:
    return over_size_limit(ctx.registry.settings, modality, item.size)


def _apply_bookkeeping(ctx: IndexContext, todo: scan.Plan) -> None:
    """Deletions, moves and touched mtimes: no model needed, one transaction."""
    with Session(ctx.db) as session, session.begin():
        delta = writer.remove_media(session, todo.removed, ctx.spaces)
        writer.move_media(session, todo.renamed)
        # a vanished library whose every file was found moved is gone for good
        emptied = {old.root_id for item, old in todo.renamed if old.root_id != item.root_id}
        for root_id in emptied:
            if session.scalar(select(Media.id).where(Media.root_id == root_id).limit(1)) is None:
                session.execute(delete(Root).where(Root.id == root_id))
        for item, old in todo.touched:
            session.execute(update(Media).where(Media.id == old.media_id).values(mtime_ns=item.mtime_ns, ctime_ns=item.ctime_ns,
                                                                                  indexed_at=writer.now()))
    with Session(ctx.db) as session:
        writer.apply_delta(session, ctx.spaces, delta)
