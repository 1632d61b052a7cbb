"""One indexing run: walk, plan, apply moves and deletions, then extract-embed-write the rest."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC
from pathlib import Path

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import delete, select, update
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from ..embedder import Embedder
from ..errors import MMSearchError
from ..modality import Modality, over_size_limit
from ..paths import decode_relpath
from ..plugins import Registry
from ..store.models import Media, Root
from ..types import FileReport, IndexSummary
from . import pipeline, scan, writer
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
    found, known = _survey(ctx, paths)
    # Deliberately not indexed (links out of the library, loops): reported with the reason on
    # every run, never stored, so a stored copy of such a path is removed. (What was stored below
    # an unreadable or emptied folder is kept: _survey leaves it out of ``known``.)
    skipped = [item for item in found if item.skip is not None]
    todo = scan.plan([item for item in found if item.skip is None], known, retry_failed)
    elsewhere: set[int] = set()  # media of vanished libraries matched by this run's new files
    if todo.new:  # a library folder moved away and indexed at its new place: its files, not copies of them
        before = len(todo.renamed)
        scan.match_moves(todo, _of_vanished_libraries(ctx, {f.size for f in todo.new}))
        elsewhere = {old.media_id for _, old in todo.renamed[before:]}
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
        jobs.append(pipeline.Job(item, modality, old, todo.hashes.get(item.path), derive))
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
            pipeline.run(jobs, ctx.embedders, write, ctx.workers, ctx.batch_segments, models)
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


def _over_limit(ctx: IndexContext, item: scan.Found, modality: Modality) -> str | None:
    return over_size_limit(ctx.registry.settings, modality, item.size)


def _survey(ctx: IndexContext, paths: Sequence[str | os.PathLike[str]]) -> tuple[list[scan.Found], dict[tuple[int, str], scan.Known]]:
    found: list[scan.Found] = []
    known: dict[tuple[int, str], scan.Known] = {}
    follow = str(ctx.registry.settings.get("follow_symlinks", "inside")).strip().lower()
    gone: dict[Path, dict[tuple[int, str], scan.Known]] = {}
    for raw in paths:  # every path checked before any library is recorded: a typo in the last changes nothing
        try:
            there = Path(raw).expanduser().exists()
        except OSError as exc:  # a folder on the way that cannot be read
            raise MMSearchError(f"{os.fsdecode(raw)}: cannot be reached ({exc.strerror or exc}); check its permissions") from None
        if not there:
            # A file or folder of a library deleted since: bringing that part up to date removes it.
            try:
                where = Path(raw).expanduser().resolve()
            except (OSError, RuntimeError):  # a link loop: Python < 3.13 reports it as RuntimeError
                where = None
            held = _held_below(ctx, where) if where is not None and not Path(raw).expanduser().is_symlink() else {}
            if not held or where is None:
                raise MMSearchError(f"{os.fsdecode(raw)}: {_missing_reason(Path(raw).expanduser())}; check the path and try again")
            gone[where] = held
    for raw in _outermost(paths):
        path = Path(raw).expanduser().resolve()
        if path in gone:
            known.update(gone[path])
            continue
        folder = path.is_dir()
        adopted = None
        with Session(ctx.db) as session, session.begin():
            library = _library_of(session, path)
            if library is None:  # a new library: the folder itself, or a lone file's folder
                if not folder and not path.is_file():
                    raise MMSearchError(f"{raw}: not a file or folder (a pipe, socket or device); nothing to index")
                library = path if folder else path.parent
                if folder:
                    adopted = _adopt_libraries_below(ctx, session, library)
            root_id = writer.ensure_root(session, str(library))
            # Only what this run looks at may be found missing: a lone file (or pipe), or a
            # subfolder of a library, never the rest of the library.
            scope = "." if path == library else scan.relpath_of(path, library)
            here = {(root_id, m.relpath): scan.Known.of(m) for m in session.scalars(select(Media).where(Media.root_id == root_id))
                    if scope == "." or m.relpath == scope or (folder and m.relpath.startswith(scope + "/"))}
        if adopted is not None:  # committed: the FAISS caches follow
            with Session(ctx.db) as session:
                writer.apply_delta(session, ctx.spaces, adopted)
        walked: list[scan.Found] = []
        for item in scan.walk(root_id, library, ctx.ignore, follow, start=path):
            if item.skip is not None and item.skip.startswith((scan.UNREADABLE_FOLDER, scan.EMPTY_FOLDER)):
                # What is stored below a folder that cannot be read now is unknown, not gone. An
                # empty folder that held indexed files may be an unmounted drive (the library's, or
                # one mounted inside it): removing them would cost hours of re-embedding when it
                # comes back. Unless the folder itself changed after they were indexed: deleting or
                # moving a file out sets its folder's mtime, unmounting does not.
                inside = "" if item.relpath == "." else item.relpath + "/"
                held = {key for key, k in here.items() if k.relpath.startswith(inside)}
                if item.skip.startswith(scan.EMPTY_FOLDER) and held and _emptied_since(item.path, [here[key] for key in held]):
                    continue  # they are missing: removed, or found again where they were moved
                here = {key: k for key, k in here.items() if key not in held}
                if item.skip.startswith(scan.EMPTY_FOLDER):
                    if not held:
                        continue  # an empty folder that never held anything: nothing to say
                    where = item.path
                    item = replace(item, relpath=item.relpath if item.relpath != "." else "(the library folder)",
                                   skip=f"the folder is empty, but the index holds {len(held)} file(s) from it: "
                                        f"kept (an unmounted drive?); `mmsearch remove {where}` deletes them")
            walked.append(item)
        seen = {item.relpath for item in walked}
        # A file the walk passed over because a plugin ignores it (a hidden folder the user indexed
        # by naming it: `mmsearch index lib/.private`) is still there: not deleted, so kept.
        here = {key: k for key, k in here.items() if k.relpath in seen or not _ignored_but_present(ctx, library, k.relpath)}
        known.update(here)
        found.extend(walked)
    return found, known


def _of_vanished_libraries(ctx: IndexContext, sizes: set[int]) -> list[scan.Known]:
    """Media of libraries whose folder is gone (of these sizes): moved with their folder, or on a
    drive that is unplugged. A new file holding one's content is that file moved: a probe moved its
    library folder and every file was embedded again, then found twice (the old root is kept, as an
    unmounted drive's is). A copy of an unplugged drive's file takes its vectors the same way; the
    drive's file is embedded again when it is back."""
    with Session(ctx.db) as session:
        gone = [rid for rid, path in session.execute(select(Root.id, Root.path)) if _vanished(Path(path))]
        if not gone:
            return []
        return [scan.Known.of(m) for m in session.scalars(select(Media).where(Media.root_id.in_(gone), Media.size.in_(sorted(sizes))))]


def _is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _vanished(folder: Path) -> bool:
    """Whether a library folder is gone; one that cannot be checked (no permission, a hung network
    mount) is not known to be gone."""
    try:
        return not folder.is_dir()
    except OSError:
        return False


def _held_below(ctx: IndexContext, path: Path) -> dict[tuple[int, str], scan.Known]:
    """What the index holds at or below ``path`` inside a library whose folder is still there."""
    with Session(ctx.db) as session:
        library = _library_of(session, path)
        if library is None or path == library or not library.is_dir():
            return {}
        root_id = session.scalar(select(Root.id).where(Root.path == str(library)))
        scope = scan.relpath_of(path, library)
        held = {(root_id, m.relpath): scan.Known.of(m) for m in session.scalars(select(Media).where(Media.root_id == root_id))
                if m.relpath == scope or m.relpath.startswith(scope + "/")}
    parent = next(p for p in path.parents if p == library or _is_folder(p))
    if held and not _emptied_since(parent, list(held.values())):
        # Deleting it would have changed the folder that held it; an unmounted drive does not.
        raise MMSearchError(f"{path}: not there, but {parent} has not changed since it was indexed (an unmounted drive?): "
                            f"its {len(held)} file(s) are kept; `mmsearch remove {path}` deletes them")
    return held


def _outermost(paths: Sequence[str | os.PathLike[str]]) -> list[str | os.PathLike[str]]:
    """``paths`` less repeats and paths inside another one given: `index ov ov/sub` walked ov/sub
    twice, embedded its files twice and reported a thousand constraint failures (an outside probe)."""
    resolved = [Path(raw).expanduser().resolve() for raw in paths]
    return [raw for i, (raw, path) in enumerate(zip(paths, resolved))
            if path not in resolved[:i] and not any(other in path.parents for other in resolved)]


def _emptied_since(folder: Path, held: Sequence[scan.Known]) -> bool:
    """Whether ``folder`` was modified after the last of ``held`` was indexed (a file deleted or
    moved out of it since)."""
    stamps = [k.indexed_at for k in held if k.indexed_at is not None]
    try:
        changed = folder.stat().st_mtime
    except OSError:
        return False
    return bool(stamps) and changed > max(stamps).replace(tzinfo=UTC).timestamp()


def _ignored_but_present(ctx: IndexContext, library: Path, relpath: str) -> bool:
    path = library / decode_relpath(relpath)
    if not path.exists():
        return False
    return any(ctx.ignore(p) for p in [path, *path.parents] if p != library and library in p.parents)


def _missing_reason(path: Path) -> str:
    if not path.is_symlink():
        return "no such file or folder"
    try:
        path.resolve(strict=True)
    except FileNotFoundError:
        return "broken symbolic link (its target does not exist)"
    except (OSError, RuntimeError):  # RuntimeError: Python < 3.13 reports a loop this way
        return "symbolic link loop (the link leads back to itself)"
    return "cannot be reached"


def _library_of(session: Session, path: Path) -> Path | None:
    """The library folder that holds ``path`` (or is it), so that indexing a subfolder or one file
    of a library updates that library instead of starting a second one that lists its files twice."""
    holders = [Path(p) for p in session.scalars(select(Root.path)) if Path(p) == path or Path(p) in path.parents]
    return max(holders, key=lambda p: len(p.parts)) if holders else None


def _adopt_libraries_below(ctx: IndexContext, session: Session, library: Path) -> writer.VectorDelta | None:
    """Libraries inside a new, larger one become part of it: their media keep their vectors under
    the new library's paths (a file already stored under both is kept once)."""
    new_id = writer.ensure_root(session, str(library))
    below = [(rid, Path(p)) for rid, p in session.execute(select(Root.id, Root.path)) if library in Path(p).parents]
    if not below:
        return None
    taken = set(session.scalars(select(Media.relpath).where(Media.root_id == new_id)))
    twice: list[scan.Known] = []
    for old_id, old_path in below:
        prefix = scan.relpath_of(old_path, library)
        for m in list(session.scalars(select(Media).where(Media.root_id == old_id))):
            relpath = f"{prefix}/{m.relpath}"
            if relpath in taken:
                twice.append(scan.Known.of(m))
            else:
                m.root_id, m.relpath = new_id, relpath
                taken.add(relpath)
        session.flush()
    delta = writer.remove_media(session, twice, ctx.spaces)
    session.execute(delete(Root).where(Root.id.in_([rid for rid, _ in below])))
    return delta


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
