"""What one indexing run looks at: the paths it was given, what the walk finds there, what the index
holds for them, and which of the index's files count as missing (and which are kept: an unmounted
drive, an unreadable folder, a library folder moved away)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..errors import MMSearchError
from ..paths import decode_relpath
from ..store.models import Media, Root
from . import scan, writer

if TYPE_CHECKING:
    from .run import IndexContext


def survey(ctx: IndexContext, paths: Sequence[str | os.PathLike[str]]) -> tuple[list[scan.Found], dict[tuple[int, str], scan.Known]]:
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


def of_vanished_libraries(ctx: IndexContext, sizes: set[int]) -> list[scan.Known]:
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
