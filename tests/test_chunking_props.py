"""Property tests (hypothesis) for the text chunker: whatever the text, chunks stay within the size
an embedder reads, never begin or end in whitespace, come in order, and together cover every
non-blank character (nothing is silently dropped), each adding text the previous one lacks."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mmsearch.chunking import chunk_spans

# Words from a small alphabet, joined by the separators the chunker breaks on, plus raw text
# (no spaces at all: CJK, URLs, base64) and arbitrary unicode.
WORD = st.text(alphabet="abcxyz.!?'\")]", min_size=1, max_size=30)
SEPARATOR = st.sampled_from([" ", "  ", "\n", "\n\n", "\t", ". ", "! ", "\n \n"])
PROSE = st.lists(st.tuples(WORD, SEPARATOR), max_size=120).map(lambda parts: "".join(w + s for w, s in parts))
TEXT = st.one_of(PROSE, st.text(max_size=600), st.text(alphabet="猫犬車", max_size=600))
SIZE = st.integers(min_value=1, max_value=300)
OVERLAP = st.integers(min_value=0, max_value=400)


@settings(max_examples=200, deadline=None)
@given(text=TEXT, size=SIZE, overlap=OVERLAP)
@example(text="a" * 50, size=8, overlap=0)  # one long word: must not vanish after the first chunk
@example(text="猫" * 40, size=10, overlap=3)  # no spaces at all (CJK)
@example(text="?? ? ", size=2, overlap=1)  # a trimmed window inside the last chunk: no duplicate
def test_chunks_fit_are_trimmed_ordered_and_cover_the_text(text: str, size: int, overlap: int) -> None:
    spans = list(chunk_spans(text, size, overlap))
    for start, end in spans:
        assert 0 <= start < end <= len(text), (start, end)
        assert end - start <= size, f"chunk {start}-{end} is longer than {size}"
        assert not text[start].isspace() and not text[end - 1].isspace(), f"chunk {start}-{end} not trimmed"
    starts, ends = [s for s, _ in spans], [e for _, e in spans]
    assert starts == sorted(starts), "chunks must come in text order"
    assert all(a < b for a, b in zip(ends, ends[1:])), f"a chunk adds nothing the previous one holds: {spans}"
    covered = bytearray(len(text))
    for start, end in spans:
        covered[start:end] = b"\x01" * (end - start)
    lost = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert not lost, f"characters {lost[:5]}… ({text[lost[0]:lost[0] + 10]!r}) are in no chunk"


@settings(max_examples=100, deadline=None)
@given(text=PROSE, size=st.integers(min_value=20, max_value=300), overlap=st.integers(min_value=0, max_value=150))
def test_chunking_is_deterministic_and_blank_text_gives_none(text: str, size: int, overlap: int) -> None:
    assert list(chunk_spans(text, size, overlap)) == list(chunk_spans(text, size, overlap))
    assert list(chunk_spans(" \n\t" * (size // 3 + 1), size, overlap)) == []
