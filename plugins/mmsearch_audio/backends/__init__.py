"""One small interface over the Whisper implementations, chosen by the ``audio.backend`` setting."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from ..config import AudioConfig


@dataclass(frozen=True)
class TranscriptSegment:
    """A timed piece of transcript; times are seconds from the start of the audio passed in."""

    start: float
    end: float
    text: str
    language: str | None
    avg_logprob: float
    no_speech_prob: float


@dataclass(frozen=True)
class DecodeOptions:
    language: str | None = None
    beam_size: int = 1
    vad: str = "silero"  # silero | energy | off (already resolved from "auto")
    no_speech_threshold: float = 0.6
    # A silence this long (seconds) always ends a segment (word timestamps find it; see pauses.py).
    max_pause: float = 2.0
    # Fallback temperatures when a decode looks like a loop (compression ratio) or is unsure.
    # Both libraries default to six; three bound the cost of hard audio at 3x, not 6x.
    temperatures: tuple[float, ...] = (0.0, 0.4, 0.8)
    # Candidates sampled per fallback. openai-whisper samples one; faster-whisper's default five
    # cost 5x the decode and leave ~100 MB more in CTranslate2's allocator cache.
    best_of: int = 1


@runtime_checkable
class Transcriber(Protocol):
    backend: str
    model_name: str

    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> Iterator[TranscriptSegment]:
        """Transcribe 16 kHz mono float32 ``audio`` (up to ~30 s), skipping what is not speech."""
        ...


_cache: dict[tuple[object, ...], Transcriber] = {}
_cache_lock = threading.Lock()


def get_transcriber(config: AudioConfig) -> Transcriber:
    """The loaded model for ``config``, shared by every modality in the process (weights are large:
    the audio and video modalities must not each hold a copy). Loads on first call, under a lock so
    two extraction threads do not load it twice."""
    key = config.model_key()
    with _cache_lock:
        transcriber = _cache.get(key)
        if transcriber is None:
            if config.backend == "openai-whisper":
                from .openai import OpenAIWhisper

                transcriber = OpenAIWhisper.load(config)
            else:
                from .faster import FasterWhisper

                transcriber = FasterWhisper.load(config)
            _cache[key] = transcriber
        return transcriber


def clear_cache() -> None:
    """Drop loaded models (tests, benchmarks)."""
    with _cache_lock:
        _cache.clear()
