"""Plain text and Markdown: decoded strictly enough to reject binary files, leniently enough for
old Windows-1252 notes."""

from __future__ import annotations

from collections.abc import Iterator

from mmsearch.modality import Modality
from mmsearch.types import TEXT, Locator, Segment, Source

from mmsearch.chunking import chunk_spans

_CONTROL_OK = {"\n", "\r", "\t", "\f"}


class TextModality(Modality):
    name = "text"
    kinds = frozenset({TEXT})
    extensions = frozenset({".txt", ".md", ".markdown", ".rst", ".text"})

    def __init__(self, chunk_chars: int = 1000, overlap: int = 200) -> None:
        self.chunk_chars = chunk_chars
        self.overlap = overlap

    def extract(self, source: Source) -> Iterator[Segment]:
        text = decode_text(source.path.read_bytes())
        for start, end in chunk_spans(text, self.chunk_chars, self.overlap):
            chunk = text[start:end]
            yield Segment(kind=TEXT, payload=chunk, text=chunk, locator=Locator(char_start=start, char_end=end))


def decode_text(data: bytes) -> str:
    if b"\x00" in data[:65536] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("not a text file (it contains NUL bytes); remove it or give it its real extension")
    for encoding in ("utf-8-sig", "utf-16"):
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    text = data.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in _CONTROL_OK)
    if controls > len(text) // 100:
        raise ValueError("not UTF-8 text and too many control characters to be text; convert it to UTF-8")
    return text
