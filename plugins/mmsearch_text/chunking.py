"""Split text into overlapping chunks that end on a paragraph, sentence or word boundary."""

from __future__ import annotations

import re
from collections.abc import Iterator

_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"[.!?][\"')\]]?\s"), re.compile(r"\s"))


def chunk_spans(text: str, size: int, overlap: int) -> Iterator[tuple[int, int]]:
    """(start, end) character spans covering ``text``; whitespace-only spans are skipped."""
    if size <= 0:
        raise ValueError("chunk size must be positive")
    overlap = max(0, min(overlap, size // 2))
    start, n = 0, len(text)
    while start < n:
        end = min(n, start + size)
        if end < n:
            end = _best_break(text, start + size // 2, end)
        if text[start:end].strip():
            yield _trim(text, start, end)
        if end >= n:
            break
        start = max(end - overlap, start + 1)
        # Restart on a word boundary so no chunk begins mid-word, but never past this chunk's
        # end: text without spaces (CJK, a URL) would otherwise be skipped to its end, unindexed.
        while 0 < start < end and not text[start - 1].isspace():
            start += 1


def _best_break(text: str, lo: int, hi: int) -> int:
    window = text[lo:hi]
    for pattern in _BREAKS:
        matches = list(pattern.finditer(window))
        if matches:
            return lo + matches[-1].end()
    return hi


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
