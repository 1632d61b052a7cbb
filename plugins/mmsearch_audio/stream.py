"""Decode -> window -> transcribe -> gate, as one lazy stream of transcript segments.

Shared by the audio modality and the video modality (which passes its audio track's frames).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmsearch.settings import Settings
from mmsearch.types import TEXT, Locator, Segment

from .backends import DecodeOptions, Transcriber, get_transcriber
from .config import AudioConfig
from .decode import SAMPLE_RATE, to_mono_16k
from .gates import collapse_repeats, is_non_speech, is_silent, normalise, quietest_cut, silero_available

#: Where a window may end, as a share of ``window_seconds``: cut in the quietest spot of its last third.
_CUT_FROM = 2 / 3


@dataclass(frozen=True)
class Window:
    offset: float  # seconds from the start of the stream
    samples: np.ndarray


def windows(chunks: Iterable[np.ndarray], window_seconds: float = 30.0) -> Iterator[Window]:
    """Group a 16 kHz stream into windows of at most ``window_seconds``, cut at pauses.

    Holds at most one window of audio (about 1.9 MB for 30 s), however long the stream.
    """
    size = int(window_seconds * SAMPLE_RATE)
    pending: list[np.ndarray] = []
    held = 0
    consumed = 0  # samples emitted so far: the next window's offset
    for chunk in chunks:
        pending.append(chunk)
        held += len(chunk)
        while held >= size:
            buffer = np.concatenate(pending)
            cut = quietest_cut(buffer, int(size * _CUT_FROM), size)
            yield Window(consumed / SAMPLE_RATE, buffer[:cut])
            consumed += cut
            pending, held = [buffer[cut:]], len(buffer) - cut
    if held:
        yield Window(consumed / SAMPLE_RATE, np.concatenate(pending))


def decode_options(config: AudioConfig) -> DecodeOptions:
    vad = config.vad
    if vad == "auto":
        vad = "silero" if silero_available() else "energy"
    return DecodeOptions(
        language=config.language,
        beam_size=config.beam_size,
        vad=vad,
        no_speech_threshold=config.no_speech_threshold,
        max_pause=config.max_pause,
    )


def transcribe_windows(
    chunks: Iterable[np.ndarray], config: AudioConfig, transcriber: Transcriber | None = None
) -> Iterator[Segment]:
    """Transcribe a 16 kHz mono stream into text segments with absolute time locators."""
    options = decode_options(config)
    model: Transcriber | None = transcriber
    recent: list[str] = []  # the last texts kept, to drop a hallucination repeated across segments
    for window in windows(chunks, config.window_seconds):
        if is_silent(window.samples):  # no model call at all for digital silence
            continue
        model = model or get_transcriber(config)
        duration = len(window.samples) / SAMPLE_RATE
        for piece in model.transcribe(window.samples, options):
            if piece.no_speech_prob > config.no_speech_threshold:
                continue
            text = collapse_repeats(piece.text)
            key = normalise(text)
            if is_non_speech(text) or key in recent:
                continue
            recent = (recent + [key])[-2:]
            start = window.offset + max(0.0, min(piece.start, duration))
            end = window.offset + max(0.0, min(piece.end, duration))
            meta: dict[str, Any] = {
                "language": piece.language,
                "avg_logprob": round(piece.avg_logprob, 4),
                "no_speech_prob": round(piece.no_speech_prob, 4),
                "model": f"{model.backend}:{model.model_name}",
            }
            yield Segment(
                kind=TEXT,
                payload=text,
                text=text,
                locator=Locator(start=round(start, 3), end=round(max(end, start), 3)),
                meta=meta,
            )


def transcribe_stream(
    frames: Iterable[Any],
    sample_rate: int = SAMPLE_RATE,
    settings: Settings | AudioConfig | None = None,
    *,
    transcriber: Transcriber | None = None,
) -> Iterator[Segment]:
    """Speech in ``frames`` (``av.AudioFrame``s or numpy arrays at ``sample_rate``) as timed text
    segments. ``settings`` supplies the ``audio.*`` keys; the model loads on first speech."""
    config = settings if isinstance(settings, AudioConfig) else AudioConfig.from_settings(settings)
    yield from transcribe_windows(to_mono_16k(frames, sample_rate), config, transcriber)
