"""Built-in ``audio`` modality: Whisper transcripts of speech, segment by segment."""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from mmsearch.modality import Modality
from mmsearch.settings import Settings

from .modality import AudioModality
from .stream import transcribe_stream

hookimpl = pluggy.HookimplMarker("mmsearch")

__all__ = ["AudioModality", "transcribe_stream", "register_modalities"]


@hookimpl(trylast=True)
def register_modalities(register: Callable[[Modality], None], settings: Settings) -> None:
    register(AudioModality(settings))
