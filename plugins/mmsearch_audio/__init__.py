"""Built-in ``audio`` modality: Whisper transcripts of speech, segment by segment."""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from mmsearch.modality import Modality
from mmsearch.settings import Settings

from mmsearch.extras import require_extra
from mmsearch.transcriber import Transcriber

require_extra("audio", "av", "faster_whisper")  # else the plugin is disabled, naming the extra

from .modality import AudioModality  # noqa: E402
from .stream import transcribe_stream  # noqa: E402
from .transcriber import WhisperTranscriber  # noqa: E402

hookimpl = pluggy.HookimplMarker("mmsearch")

__all__ = ["AudioModality", "WhisperTranscriber", "transcribe_stream", "register_modalities", "register_transcribers"]


@hookimpl(trylast=True)
def register_modalities(register: Callable[[Modality], None], settings: Settings) -> None:
    register(AudioModality(settings))


@hookimpl(trylast=True)
def register_transcribers(register: Callable[[Transcriber], None], settings: Settings) -> None:
    register(WhisperTranscriber(settings))  # the video plugin's narration, without importing us
