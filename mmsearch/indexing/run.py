"""One indexing run: walk, plan, apply moves and deletions, then extract-embed-write the rest."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..embedder import Embedder
from ..errors import MMSearchError
from ..plugins import Registry
from ..store.models import Media
from ..types import FileReport, IndexSummary
from . import pipeline, scan, writer

#: progress(report, done, total): called once per file as its fate is settled.
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


def index_paths(ctx: IndexContext, paths: Sequence[str | os.PathLike[str]], retry_failed: bool = False, progress: ProgressFn | None = None) -> IndexSummary:
    started = time.monotonic()
    found, known = _survey(ctx, paths)
    todo = scan.plan(found, known, retry_failed)
    counts = {"added": 0, "updated": 0, "unchanged": len(todo.unchanged), "removed": len(todo.removed),
              "renamed": len(todo.renamed), "failed": 0, "skipped": 0, "segments": 0}
    failures: list[FileReport] = []
    jobs: list[pipeline.Job] = []
    derive = ctx.registry.extra_segments if ctx.registry.adds_segments else None
    for item, old in [(f, None) for f in todo.new] + todo.changed:
        modality = ctx.registry.modality_for(item.path)
        if modality is None:
            counts["skipped"] += 1
            if old is not None:  # its plugin is gone: the file can no longer be kept current
                todo.removed.append(old)
                counts["removed"] += 1
            continue
        jobs.append(pipeline.Job(item, modality, old, todo.hashes.get(item.path), derive))
    # A missing model fails now, before any file is touched; a no-op run loads none, and a
    # runner whose workers hold the models (Ray) loads none here.
    if jobs and getattr(ctx.runner, "loads_models_here", True):
        for embedder in ctx.embedders:
            embedder.ensure_loaded()
    total = len(jobs) + len(todo.removed) + len(todo.renamed) + len(todo.touched) + len(todo.unchanged)
    done = 0

    def report(rep: FileReport) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(rep, done, total)

    _apply_bookkeeping(ctx, todo)
    for rep in (
        [FileReport(k.relpath, "removed") for k in todo.removed]
        + [FileReport(f.relpath, "renamed") for f, _ in todo.renamed]
        + [FileReport(f.relpath, "unchanged") for f in todo.unchanged]
        + [FileReport(f.relpath, "unchanged") for f, _ in todo.touched]
    ):
        report(rep)
    counts["unchanged"] += len(todo.touched)

    def write(batch: list[pipeline.Extracted]) -> None:
        with Session(ctx.db) as session, session.begin():
            delta = writer.write_extracted(session, batch, ctx.spaces)
        with Session(ctx.db) as session:
            writer.apply_delta(session, ctx.spaces, delta)
        for item in batch:
            action = "failed" if item.error else ("updated" if item.job.old else "added")
            counts[action] += 1
            counts["segments"] += 0 if item.error else len(item.segments)
            rep = FileReport(item.job.found.relpath, action, item.error, len(item.segments))
            if item.error:
                failures.append(rep)
            report(rep)

    try:
        ctx.runner(jobs, ctx.embedders, write, ctx.workers, ctx.batch_segments)
    finally:
        for space in ctx.spaces:
            space.indexes.save()
    return IndexSummary(**counts, seconds=time.monotonic() - started, failures=tuple(failures))


def _survey(ctx: IndexContext, paths: Sequence[str | os.PathLike[str]]) -> tuple[list[scan.Found], dict[tuple[int, str], scan.Known]]:
    found: list[scan.Found] = []
    known: dict[tuple[int, str], scan.Known] = {}
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise MMSearchError(f"{raw}: no such file or folder; check the path and try again")
        path = path.resolve()
        root = path if path.is_dir() else path.parent
        with Session(ctx.db) as session, session.begin():
            root_id = writer.ensure_root(session, str(root))
            query = select(Media).where(Media.root_id == root_id)
            if path.is_file():  # a single file: its siblings are not this run's business
                query = query.where(Media.relpath == path.name)
            for m in session.scalars(query):
                known[(root_id, m.relpath)] = scan.Known(m.id, m.root_id, m.relpath, m.size, m.mtime_ns, m.content_hash, m.status)
        found.extend(scan.walk(root_id, path, ctx.ignore))
    return found, known


def _apply_bookkeeping(ctx: IndexContext, todo: scan.Plan) -> None:
    """Deletions, moves and touched mtimes: no model needed, one transaction."""
    with Session(ctx.db) as session, session.begin():
        delta = writer.remove_media(session, todo.removed, ctx.spaces)
        writer.move_media(session, todo.renamed)
        for item, old in todo.touched:
            session.execute(update(Media).where(Media.id == old.media_id).values(mtime_ns=item.mtime_ns))
    with Session(ctx.db) as session:
        writer.apply_delta(session, ctx.spaces, delta)
