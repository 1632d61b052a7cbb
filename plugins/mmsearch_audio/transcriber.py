"""The audio plugin's Whisper, offered to other plugins through the core ``Transcriber`` interface."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mmsearch.settings import Settings
from mmsearch.types import Segment

from .config import AudioConfig
from .decode import iter_audio
from .stream import transcribe_stream


class WhisperTranscriber:
    """Speech in any file FFmpeg reads (a video's sound track too), with the ``audio.*`` settings.

    Construction only parses settings; the model loads on the first speech, once per process.
    """

    name = "whisper"

    def __init__(self, settings: Settings | AudioConfig | None = None) -> None:
        self.config = settings if isinstance(settings, AudioConfig) else AudioConfig.from_settings(settings)

    def transcribe(self, path: Path) -> Iterator[Segment]:
        return transcribe_stream(iter_audio(path), settings=self.config)
