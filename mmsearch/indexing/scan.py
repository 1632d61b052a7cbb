"""Walk library roots and sort every file into added / changed / unchanged / renamed / removed."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..paths import encode_relpath

_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class Found:
    """A file found on disk (or an error found instead of its metadata).

    ``skip`` is set for what is deliberately not indexed (a symbolic link leaving the library, a
    folder that cannot be read, a file over a size limit): reported with its reason, never stored.
    """

    root_id: int
    path: Path
    relpath: str
    size: int = 0
    mtime_ns: int = 0
    error: str | None = None
    skip: str | None = None
    ctime_ns: int | None = None


@dataclass(frozen=True)
class Known:
    """What the store knows about a media file."""

    media_id: int
    root_id: int
    relpath: str
    size: int
    mtime_ns: int
    content_hash: str
    status: str
    ctime_ns: int | None = None
    indexed_at: datetime | None = None  # naive UTC, as stored
    modality: str | None = None

    @classmethod
    def of(cls, media: Any) -> Known:
        """From a ``store.models.Media`` row."""
        return cls(media.id, media.root_id, media.relpath, media.size, media.mtime_ns, media.content_hash, media.status, media.ctime_ns,
                   getattr(media, "indexed_at", None), getattr(media, "modality", None))


@dataclass
class Plan:
    new: list[Found] = field(default_factory=list)
    changed: list[tuple[Found, Known]] = field(default_factory=list)
    unchanged: list[Found] = field(default_factory=list)
    touched: list[tuple[Found, Known]] = field(default_factory=list)  # new mtime, same content
    renamed: list[tuple[Found, Known]] = field(default_factory=list)
    removed: list[Known] = field(default_factory=list)
    hashes: dict[Path, str] = field(default_factory=dict)


UNREADABLE_FOLDER = "cannot read folder"
EMPTY_FOLDER = "empty folder"

#: Which symbolic links a walk follows: "inside" (targets inside the library folder), "all", "none".
FOLLOW_MODES = ("inside", "all", "none")


def walk(root_id: int, root: Path, ignore: Callable[[Path], bool], follow: str = "inside",
         start: Path | None = None) -> Iterator[Found]:
    """Every regular file below ``start`` (default: the library folder ``root``; both resolved)
    that no plugin ignores, in a stable order, with paths relative to ``root``. A ``start`` that is
    not a folder is that one file (a pipe or a device comes back failed: not a regular file).
    Symbolic links are followed as ``follow`` says; loops, unreadable folders and links that are
    not followed come back as skipped, with the reason, instead of stopping the walk."""
    if follow not in FOLLOW_MODES:
        raise ConfigError(f"setting 'follow_symlinks' (env MMSEARCH_FOLLOW_SYMLINKS) must be one of "
                          f"{', '.join(FOLLOW_MODES)}, got {follow!r}")
    top = root if start is None else start
    if not top.is_dir():
        yield _found(root_id, top, root if top != root else root.parent)
        return
    seen_dirs: set[tuple[int, int]] = set()  # (device, inode) of every folder walked: no loop twice
    stack: list[Path] = [top]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
            key = (st.st_dev, st.st_ino)
            if key in seen_dirs:
                yield Found(root_id, folder, relpath_of(folder, root), skip="folder already walked through another link (a symbolic link loop)")
                continue
            seen_dirs.add(key)
            with os.scandir(folder) as entries:
                listing = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            yield Found(root_id, folder, relpath_of(folder, root), skip=f"{UNREADABLE_FOLDER}: {exc.strerror or exc}")
            continue
        if not any(not ignore(folder / e.name) for e in listing):  # nothing but what is ignored (.DS_Store):
            # said, so that what the index held below it is not taken for deleted
            yield Found(root_id, folder, relpath_of(folder, root), skip=EMPTY_FOLDER)
            continue
        subdirs: list[Path] = []
        for entry in listing:
            path = folder / entry.name
            if ignore(path):
                continue
            if entry.is_symlink():
                outcome = _follow(root_id, path, root, follow)
                if isinstance(outcome, Found):
                    yield outcome
                elif outcome.is_dir():
                    subdirs.append(path)
                else:
                    yield _found(root_id, path, root)
            elif entry.is_dir(follow_symlinks=False):
                subdirs.append(path)
            else:
                yield _found(root_id, path, root)
        stack.extend(reversed(subdirs))  # depth first, in name order


def _follow(root_id: int, link: Path, root: Path, follow: str) -> Found | Path:
    """The target of ``link`` when the walk may follow it, else a Found saying why not."""
    rel = relpath_of(link, root)
    if follow == "none":
        return Found(root_id, link, rel, skip='symbolic link not followed (setting follow_symlinks = "none")')
    try:
        target = link.resolve(strict=True)
    except FileNotFoundError:
        return Found(root_id, link, rel, error="broken symbolic link (its target does not exist)")
    except (OSError, RuntimeError):  # RuntimeError: Python < 3.13 reports a loop this way
        return Found(root_id, link, rel, skip="symbolic link loop (the link leads back to itself)")
    inside = target == root or root in target.parents
    if follow == "inside" and not inside:
        return Found(root_id, link, rel, skip=f"symbolic link to {target}, outside the library; "
                                              f'set follow_symlinks = "all" to index it')
    if inside and target.is_dir():  # its files are walked at their real place already
        return Found(root_id, link, rel, skip="symbolic link to a folder inside the library (indexed at its real path)")
    return target


def relpath_of(path: Path, root: Path) -> str:
    """``path`` as stored: relative to its library folder ``root``, POSIX, encoded (paths.py)."""
    return encode_relpath(path.relative_to(root).as_posix()) if path != root else "."


def _found(root_id: int, path: Path, root: Path) -> Found:
    relpath = relpath_of(path, root)
    try:
        st = path.stat()
    except FileNotFoundError:
        return Found(root_id, path, relpath, error="broken symbolic link (its target does not exist)")
    except OSError as exc:
        return Found(root_id, path, relpath, error=f"cannot read file metadata: {exc.strerror or exc}")
    if not stat.S_ISREG(st.st_mode):
        return Found(root_id, path, relpath, error="not a regular file")
    # Clamped to what a 64-bit column holds: a file dated after 2262 crashed every run.
    return Found(root_id, path, relpath, st.st_size, _int64(st.st_mtime_ns), ctime_ns=_int64(st.st_ctime_ns))


def _int64(ns: int) -> int:
    return max(-(1 << 63), min(ns, (1 << 63) - 1))


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def plan(found: list[Found], known: Mapping[tuple[int, str], Known], retry_failed: bool = False) -> Plan:
    """Compare disk with the store. Hashes only where content must be compared."""
    result = Plan()
    seen: set[tuple[int, str]] = set()
    for item in found:
        key = (item.root_id, item.relpath)
        seen.add(key)
        old = known.get(key)
        if old is None:
            result.new.append(item)
        elif item.error is None and (item.size, item.mtime_ns) == (old.size, old.mtime_ns) and old.ctime_ns in (None, item.ctime_ns):
            if old.status == "failed" and retry_failed:
                result.changed.append((item, old))
            elif old.ctime_ns is None and item.ctime_ns is not None:
                result.touched.append((item, old))  # a row from before migration 0005: record its ctime now
            else:
                result.unchanged.append(item)
        else:
            result.changed.append((item, old))
    missing = [k for key, k in known.items() if key not in seen]
    _match_renames(result, missing)
    _match_touches(result)
    return result


def _match_renames(result: Plan, missing: list[Known]) -> None:
    """A new file with the content of a vanished one is that file moved: keep its vectors."""
    match_moves(result, missing)
    moved = {old.media_id for _, old in result.renamed}
    result.removed = [old for old in missing if old.media_id not in moved]


def match_moves(result: Plan, missing: list[Known]) -> None:
    """New files of ``result`` with the content of one of ``missing`` become its renames."""
    by_size: dict[int, list[Known]] = {}
    for old in missing:
        if old.status == "indexed":
            by_size.setdefault(old.size, []).append(old)
    still_new: list[Found] = []
    for item in result.new:
        candidates = by_size.get(item.size) if item.error is None else None
        if candidates:
            digest = result.hashes.get(item.path) or _hash_or_none(item.path)
            match = next((c for c in candidates if c.content_hash == digest), None)
            if digest is not None:
                result.hashes[item.path] = digest
            if match is not None:
                candidates.remove(match)
                result.renamed.append((item, match))
                continue
        still_new.append(item)
    result.new = still_new


def _match_touches(result: Plan) -> None:
    """A changed mtime over identical content (a copy, a `touch`) needs no re-embedding."""
    still_changed = []
    for item, old in result.changed:
        if item.error is None and old.status == "indexed" and item.size == old.size:
            digest = _hash_or_none(item.path)
            if digest is not None:
                result.hashes[item.path] = digest
            if digest == old.content_hash:
                result.touched.append((item, old))
                continue
        still_changed.append((item, old))
    result.changed = still_changed


def _hash_or_none(path: Path) -> str | None:
    try:
        return file_hash(path)
    except OSError:
        return None
