"""The ``audio`` modality: speech made searchable, one timed transcript segment at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from mmsearch.modality import Modality
from mmsearch.settings import Settings
from mmsearch.types import TEXT, Segment, Source

from .backends import Transcriber, get_transcriber
from .config import AudioConfig
from .decode import iter_audio
from .stream import transcribe_windows

EXTENSIONS = frozenset({".wav", ".mp3", ".flac", ".ogg", ".oga", ".m4a", ".opus"})


class AudioModality(Modality):
    """Transcribes speech with Whisper (faster-whisper by default, or openai-whisper).

    Construction only parses settings; the model loads on the first file that holds sound, once
    per process, under a lock (the engine may call :meth:`extract` from worker threads).
    """

    name: ClassVar[str] = "audio"
    extensions: ClassVar[frozenset[str]] = EXTENSIONS
    kinds: ClassVar[frozenset[str]] = frozenset({TEXT})
    streaming: ClassVar[bool] = True

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings
        self.config = AudioConfig.from_settings(settings)

    @property
    def transcriber(self) -> Transcriber:
        """The loaded model (loads it now if needed)."""
        return get_transcriber(self.config)

    def extract(self, source: Source) -> Iterator[Segment]:
        yield from transcribe_windows(iter_audio(source.path), self.config)
