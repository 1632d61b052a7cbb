"""Core default hook implementations, registered before any plugin. ``trylast`` lets plugins override."""

from __future__ import annotations

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
    if index_dir is not None and path.resolve() == Path(index_dir).resolve():
        return True
    return None


@hookimpl(trylast=True)
def register_fusers(register: Callable[[Fuser], None]) -> None:
    register(WeightedSum())
    register(ReciprocalRankFusion())
