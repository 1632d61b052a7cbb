"""Built-in ``video`` modality: frames by scene change and the transcript of the speech, timed.

Settings (``video.*``; the transcript also follows the ``audio.*`` keys):
``video.min_interval`` (s, default 1), ``video.max_interval`` (s, default 10),
``video.scene_threshold`` (0..1, default 0.1), ``video.dedup_threshold`` (0..1, default 0.03),
``video.blank_threshold`` (0..1, default 0.02), ``video.analysis_fps`` (default 4),
``video.max_side`` (px, default 640), ``video.transcribe`` (default true), ``video.transcriber``
(name of a registered transcriber; default the first, the audio plugin's ``whisper``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pluggy

from mmsearch.extras import require_extra
from mmsearch.modality import Modality
from mmsearch.settings import Settings
from mmsearch.transcriber import Transcriber

require_extra("video", "av")  # else the plugin is disabled, naming the extra

from .config import VideoConfig  # noqa: E402
from .modality import VideoModality  # noqa: E402

hookimpl = pluggy.HookimplMarker("mmsearch")

__all__ = ["VideoConfig", "VideoModality", "hookimpl", "register_modalities"]


@hookimpl(trylast=True)
def register_modalities(
    register: Callable[[Modality], None], settings: Settings, transcribers: Mapping[str, Transcriber]
) -> None:
    # Narration through the declared interface: `video.transcriber` names one, else the first.
    wanted = settings.get("video.transcriber")
    transcriber = transcribers.get(wanted) if wanted else next(iter(transcribers.values()), None)
    register(VideoModality(settings, transcriber))
