"""Built-in ``video`` modality: frames by scene change and the transcript of the speech, timed.

Settings (``video.*``; the transcript also follows the ``audio.*`` keys):
``video.min_interval`` (s, default 1), ``video.max_interval`` (s, default 10),
``video.scene_threshold`` (0..1, default 0.1), ``video.dedup_threshold`` (0..1, default 0.03),
``video.blank_threshold`` (0..1, default 0.02), ``video.analysis_fps`` (default 4),
``video.max_side`` (px, default 640), ``video.transcribe`` (default true).
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from mmsearch.modality import Modality
from mmsearch.settings import Settings

from .config import VideoConfig
from .modality import VideoModality

hookimpl = pluggy.HookimplMarker("mmsearch")

__all__ = ["VideoConfig", "VideoModality", "hookimpl", "register_modalities"]


@hookimpl(trylast=True)
def register_modalities(register: Callable[[Modality], None], settings: Settings) -> None:
    register(VideoModality(settings))
