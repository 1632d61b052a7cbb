"""Core default hook implementations, registered before any plugin. ``trylast`` lets plugins override."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pluggy

from .search.fusion import Fuser, ReciprocalRankFusion, WeightedSum
from .settings import Settings

hookimpl = pluggy.HookimplMarker("mmsearch")


@hookimpl(trylast=True)
def ignore_path(path: Path, settings: Settings) -> bool | None:
    # Hidden files and folders (.git, .DS_Store, .thumbnails) are never a user's media.
    if path.name.startswith("."):
        return True
    index_dir = settings.get("index_dir")
    if index_dir is not None and _same_place(path, Path(index_dir)):
        return True
    # Another mmsearch index inside the library: its thumbnails were indexed as photos.
    if any(os.path.exists(path / marker) for marker in INDEX_MARKERS):
        return True
    return None


#: Files only an index directory holds: the writer lock beside the SQLite file, or (with another
#: database) in the directory itself (store/lock.py).
INDEX_MARKERS = ("index.db.lock", "write.lock")


def _same_place(path: Path, index_dir: Path) -> bool:
    """Whether ``path`` is the index directory. No ``resolve()``: a symbolic link loop anywhere
    in a library would make it raise; the index directory is already absolute and resolved."""
    if path == index_dir:
        return True
    if path.name != index_dir.name:  # the cheap test first: one stat only for a namesake
        return False
    try:
        return os.path.samefile(path, index_dir)
    except OSError:  # a broken link or a loop is not the index directory
        return False


@hookimpl(trylast=True)
def register_fusers(register: Callable[[Fuser], None]) -> None:
    register(WeightedSum())
    register(ReciprocalRankFusion())
