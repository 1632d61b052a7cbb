"""The shared chunker: split long text into overlapping chunks an embedder reads whole.

Any modality with text (plain files, PDF pages, office documents, OCR output) calls it, so no
plugin feeds an embedder more than it reads: a text tower that truncates at ~256 tokens would
silently ignore the rest of a 5,000-character page. Chunks end on a paragraph, sentence or word
boundary where one lies in the second half of the window, and the next chunk starts ``overlap``
characters earlier on a word boundary, so a phrase cut by one boundary is whole in a neighbour.

    >>> from mmsearch.chunking import chunk_text
    >>> [c.text for c in chunk_text("One. Two. Three.", size=10, overlap=0)]
    ['One. Two.', 'Three.']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: Defaults that fit a MiniLM/CLIP text tower (about 1,000 characters is 200-250 tokens).
DEFAULT_SIZE = 1000
DEFAULT_OVERLAP = 200

_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"[.!?][\"')\]]?\s"), re.compile(r"\s"))


@dataclass(frozen=True)
class Chunk:
    """``text == source[start:end]``: offsets index the string that was chunked."""

    start: int
    end: int
    text: str


def chunk_text(text: str, size: int = DEFAULT_SIZE, overlap: int = DEFAULT_OVERLAP) -> Iterator[Chunk]:
    """The chunks of ``text`` with their character offsets; whitespace-only spans are skipped."""
    for start, end in chunk_spans(text, size, overlap):
        yield Chunk(start, end, text[start:end])


def chunk_spans(text: str, size: int, overlap: int) -> Iterator[tuple[int, int]]:
    """(start, end) character spans covering ``text``; whitespace-only spans are skipped.

    ``size`` is the most characters a chunk holds; ``overlap`` (capped at half of ``size``) is how
    far the next chunk reaches back.
    """
    if size <= 0:
        raise ValueError("chunk size must be positive")
    overlap = max(0, min(overlap, size // 2))
    start, n = 0, len(text)
    last_end = 0
    while start < n:
        end = min(n, start + size)
        if end < n:
            end = _best_break(text, start + size // 2, end)
        if text[start:end].strip():
            span = _trim(text, start, end)
            if span[1] > last_end:  # trimmed, a window can shrink to text the last chunk already holds
                last_end = span[1]
                yield span
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
