"""Plain text and Markdown: decoded strictly enough to reject binary files, leniently enough for
old Windows-1252 notes."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from mmsearch.chunking import chunk_spans
from mmsearch.modality import Modality
from mmsearch.types import TEXT, Locator, Segment, Source

_CONTROL_OK = {"\n", "\r", "\t", "\f"}
_SNIFF = 65536
_BLOCK = 1 << 20  # bytes read at a time when checking the encoding
#: Default for the setting ``text.max_bytes``: bigger files are skipped with that reason (a log
#: dump, not a note); the indexing run checks it before the file is opened.
MAX_BYTES = 50 * 2**20


class TextModality(Modality):
    name = "text"
    kinds = frozenset({TEXT})
    extensions = frozenset({".txt", ".md", ".markdown", ".rst", ".text"})
    # Segments are yielded while the file is read: the pipeline embeds them as they come, so a
    # long file costs a window of text, not the whole file (a 200 MB file once took 1.6 GB).
    streaming = True

    def __init__(self, chunk_chars: int = 1000, overlap: int = 200, max_bytes: int = MAX_BYTES, window_chars: int = 1 << 20) -> None:
        self.chunk_chars = chunk_chars
        self.overlap = overlap
        self.max_bytes = max_bytes
        self.window_chars = max(window_chars, 4 * chunk_chars)

    def extract(self, source: Source) -> Iterator[Segment]:
        encoding = sniff_encoding(source.path)
        with source.path.open("r", encoding=encoding, errors="replace", newline="") as fh:
            for start, end, chunk in self.chunks(fh):
                yield Segment(kind=TEXT, payload=chunk, text=chunk, locator=Locator(char_start=start, char_end=end))

    def chunks(self, fh: TextIO) -> Iterator[tuple[int, int, str]]:
        """(start, end, text) of each chunk of the stream, offsets into the whole text. The text is
        cut window by window; a chunk close to the unread edge waits for the next window, which
        starts where that chunk starts, so chunks still overlap across the seams."""
        buf, base = "", 0
        while True:
            block = fh.read(self.window_chars)
            buf += block
            eof = not block
            resume = len(buf)  # nothing but whitespace left to carry over
            for start, end in chunk_spans(buf, self.chunk_chars, self.overlap):
                if not eof and end > len(buf) - self.chunk_chars:
                    resume = start
                    break
                yield base + start, base + end, buf[start:end]
            if eof:
                return
            buf, base = buf[resume:], base + resume


def sniff_encoding(path: Path) -> str:
    """The encoding to read ``path`` with, checked over the whole file a block at a time:
    UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 when it still looks like text."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return "utf-16"
        if b"\x00" in head:
            raise ValueError("not a text file (it contains NUL bytes); remove it or give it its real extension")
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while block := fh.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
        fh.seek(0)
        chars = controls = 0
        while block := fh.read(_BLOCK):
            text = block.decode("cp1252", errors="replace")
            chars += len(text)
            controls += sum(1 for ch in text if ord(ch) < 32 and ch not in _CONTROL_OK)
    if controls > chars // 100:
        raise ValueError("not UTF-8 text and too many control characters to be text; convert it to UTF-8")
    return "cp1252"


def decode_text(data: bytes) -> str:
    """All of ``data`` as text, by the rules of :func:`sniff_encoding` (for callers holding bytes)."""
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
