"""Quality gates: what is speech, where to cut a stream, and which transcript text to trust.

Whisper invents text for silence, noise and music ("Thank you.", "[Music]", a phrase repeated
until the window ends). Three gates keep that out of the index: voice activity detection before
decoding, a ``no_speech_prob`` cut after it, and collapsing repeated text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000
FRAME = 480  # 30 ms at 16 kHz
#: Below this RMS (about -50 dBFS) a frame is silence whatever the recording level.
SILENCE_RMS = 10 ** (-50 / 20)


def frame_rms(samples: np.ndarray, frame: int = FRAME) -> np.ndarray:
    """Root mean square per frame (the tail shorter than a frame is dropped)."""
    usable = len(samples) // frame * frame
    if usable == 0:
        return np.zeros(0, np.float32)
    frames = samples[:usable].reshape(-1, frame).astype(np.float32)
    return np.sqrt(np.mean(frames * frames, axis=1))


def is_silent(samples: np.ndarray) -> bool:
    """True when no 30 ms frame rises above -50 dBFS: no model needs to look at it."""
    rms = frame_rms(samples)
    return rms.size == 0 or float(rms.max()) < SILENCE_RMS


def quietest_cut(samples: np.ndarray, lo: int, hi: int) -> int:
    """Sample index in [lo, hi) at the middle of the quietest ~300 ms: a pause between words,
    so no word is split across two windows."""
    rms = frame_rms(samples[lo:hi])
    if rms.size < 10:
        return hi
    smooth = np.convolve(rms, np.ones(10) / 10, mode="same")
    # Prefer the latest of near-equal minima so windows stay long (fewer model calls).
    best = int(np.flatnonzero(smooth <= smooth.min() + 1e-6)[-1])
    return lo + best * FRAME + FRAME // 2


@dataclass(frozen=True)
class VadParams:
    """Shared by both backends so they skip the same audio."""

    threshold: float = 0.5
    min_speech_ms: int = 250
    min_silence_ms: int = 1000
    pad_ms: int = 200


def silero_available() -> bool:
    try:
        from faster_whisper.vad import get_speech_timestamps  # noqa: F401
    except ImportError:
        return False
    return True


def speech_regions(samples: np.ndarray, mode: str, params: VadParams = VadParams()) -> list[tuple[int, int]]:
    """[(start, end)] sample ranges holding speech. ``mode``: silero, energy or off."""
    if mode == "off":
        return [(0, len(samples))] if len(samples) else []
    if mode == "silero":
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        options = VadOptions(
            threshold=params.threshold,
            min_speech_duration_ms=params.min_speech_ms,
            min_silence_duration_ms=params.min_silence_ms,
            speech_pad_ms=params.pad_ms,
        )
        return [(int(r["start"]), int(r["end"])) for r in get_speech_timestamps(samples, options)]
    return _energy_regions(samples, params)


def _energy_regions(samples: np.ndarray, params: VadParams) -> list[tuple[int, int]]:
    """A plain energy detector: frames well above the window's noise floor (and above -50 dBFS)."""
    rms = frame_rms(samples)
    if rms.size == 0:
        return []
    floor = float(np.percentile(rms, 10))
    voiced = rms > max(SILENCE_RMS, floor * 4)  # ~12 dB over the floor
    regions: list[tuple[int, int]] = []
    gap = params.min_silence_ms * SAMPLE_RATE // 1000
    pad = params.pad_ms * SAMPLE_RATE // 1000
    for index in np.flatnonzero(voiced):
        start, end = int(index) * FRAME, (int(index) + 1) * FRAME
        if regions and start - regions[-1][1] <= gap:
            regions[-1] = (regions[-1][0], end)
        else:
            regions.append((start, end))
    shortest = params.min_speech_ms * SAMPLE_RATE // 1000
    return [(max(0, s - pad), min(len(samples), e + pad)) for s, e in regions if e - s >= shortest]


class TimeMap:
    """Maps times in speech-only audio (regions glued together) back to the original window."""

    def __init__(self, regions: Sequence[tuple[int, int]]) -> None:
        # (glued start, glued end, original start, original end) per region, in seconds
        self._regions: list[tuple[float, float, float, float]] = []
        glued = 0
        for start, end in regions:
            length = end - start
            self._regions.append(
                (glued / SAMPLE_RATE, (glued + length) / SAMPLE_RATE, start / SAMPLE_RATE, end / SAMPLE_RATE)
            )
            glued += length

    def original(self, t: float, is_end: bool = False) -> float:
        chosen = self._regions[0]
        for region in self._regions:
            # A time on a region boundary starts the next region, or ends the previous one.
            if region[0] < t or (region[0] == t and not is_end):
                chosen = region
        glued_start, _, start, end = chosen
        return min(start + (t - glued_start), end)

    def word(self, t0: float, t1: float) -> tuple[float, float]:
        """Original (start, end) of a word said at glued [t0, t1]: placed in the region holding its
        middle and kept inside it, so a word never straddles the silence that was cut out."""
        middle = (t0 + t1) / 2
        glued_start, glued_end, start, end = self._regions[0]
        for region in self._regions:
            if region[0] <= middle:
                glued_start, glued_end, start, end = region
        mapped = (start + (t0 - glued_start), start + (t1 - glued_start))
        return min(max(mapped[0], start), end), min(max(mapped[1], start), end)

    def span(self, t0: float, t1: float) -> tuple[float, float]:
        """Original (start, end) of the glued span [t0, t1].

        Whisper's timestamps drift by a few hundred ms, and in glued audio a start that falls just
        before a boundary maps to the end of the previous utterance, seconds early. So the span is
        trimmed to the regions it really covers (at least 1 s of each, or half of a short one).
        """
        start, end = self.original(t0), self.original(t1, is_end=True)
        covered = [
            r for r in self._regions if min(t1, r[1]) - max(t0, r[0]) >= min(1.0, 0.5 * (r[1] - r[0]))
        ]
        if covered:
            start = max(start, covered[0][2])
            end = min(max(end, covered[-1][2]), covered[-1][3])
        return start, max(start, end)


# Texts Whisper emits for non-speech: bracketed tags, music notes, ellipses.
_NON_SPEECH = re.compile(r"^[\s\W]*$|^\s*[\[(♪*].*[\])♪*]\s*$")
_WORD = re.compile(r"\S+")


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def collapse_repeats(text: str, min_repeats: int = 3, max_ngram: int = 8) -> str:
    """Collapse an n-gram said ``min_repeats`` or more times in a row to one copy: the decoder
    loop ("I'm going to go. I'm going to go. I'm going to go.") that Whisper falls into."""
    words = _WORD.findall(text)
    keys = [normalise(w) for w in words]
    n = 1
    while n <= max_ngram and len(words) >= n * min_repeats:
        i, out_words, out_keys = 0, [], []
        while i < len(words):
            repeats = 1
            while keys[i : i + n] == keys[i + repeats * n : i + (repeats + 1) * n] and i + (repeats + 1) * n <= len(words):
                repeats += 1
            if repeats >= min_repeats:
                out_words += words[i : i + n]
                out_keys += keys[i : i + n]
                i += repeats * n
            else:
                out_words.append(words[i])
                out_keys.append(keys[i])
                i += 1
        words, keys = out_words, out_keys
        n += 1
    return " ".join(words)


def is_non_speech(text: str) -> bool:
    return bool(_NON_SPEECH.match(text)) or not normalise(text)


def gated_speech(samples: np.ndarray, mode: str) -> tuple[TimeMap, np.ndarray] | None:
    """The speech regions of ``samples`` joined end to end, with the map back to file time;
    ``None`` when there is no speech. Both backends decode exactly this audio."""
    regions = speech_regions(samples, mode)
    if not regions:
        return None
    return TimeMap(regions), np.concatenate([samples[s:e] for s, e in regions]).astype(np.float32, copy=False)
