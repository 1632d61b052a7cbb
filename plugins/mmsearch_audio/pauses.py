"""A long pause ends a transcript segment, whatever Whisper grouped.

Both backends decode only the speech regions, glued end to end (``gates.gated_speech``), so two
sentences 8 s apart reach Whisper 0.4 s apart and come back as one segment spanning both: a hit on
the second sentence then links to the first. Whisper's word timestamps, mapped back to file time
region by region, show the real pause; a gap of ``max_pause`` seconds or more starts a new segment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from .gates import TimeMap


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str  # as Whisper spells it, with its leading space


@dataclass(frozen=True)
class Decoded:
    """One Whisper segment as a backend returns it, times in the glued (speech-only) audio."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    avg_logprob: float
    no_speech_prob: float


@dataclass(frozen=True)
class Piece:
    """A span of transcript in file time that no long pause runs through."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float


def split_words(words: Sequence[Word], max_pause: float) -> list[list[Word]]:
    """Runs of words (file time) with no gap of ``max_pause`` seconds or more inside a run."""
    runs: list[list[Word]] = []
    for word in words:
        if runs and word.start - runs[-1][-1].end >= max_pause:
            runs.append([word])
        elif runs:
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs


def pieces(timemap: TimeMap, decoded: Iterable[Decoded], max_pause: float) -> Iterator[Piece]:
    """File-time pieces of Whisper's segments, split at every pause of ``max_pause`` s or more."""
    for segment in decoded:
        words = [Word(*timemap.word(w.start, w.end), w.text) for w in segment.words if w.end >= w.start]
        runs = split_words(words, max_pause)
        if len(runs) <= 1:  # no long pause inside: Whisper's own text and span
            start, end = timemap.span(segment.start, segment.end)
            yield Piece(start, end, segment.text.strip(), segment.avg_logprob, segment.no_speech_prob)
            continue
        for run in runs:
            text = "".join(w.text for w in run).strip()
            if text:
                yield Piece(run[0].start, max(run[0].start, run[-1].end), text, segment.avg_logprob, segment.no_speech_prob)
