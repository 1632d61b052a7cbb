"""Issue 10 items 13 and 15: the conformance kit catches what it used to let through, and says why."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mmsearch
from mmsearch.embedder import MaxInput
from mmsearch.testing import EmbedderContract, HashEmbedder, ModalityContract, source_for
from mmsearch.types import TEXT, Locator, Segment, Source

PAGE = ("The quick brown fox jumps over the lazy dog. " * 80)[:3500]  # one 3,500-character page


class WholePage(mmsearch.Modality):
    """Yields a file as one segment, however long; optionally as bytes (the bug kit must catch)."""

    name = "page"
    kinds = frozenset({TEXT})
    extensions = frozenset({".page"})
    as_bytes = False

    def extract(self, source: Source) -> Iterator[Segment]:
        data = source.path.read_bytes()
        payload: Any = data if self.as_bytes else data.decode()
        yield Segment(TEXT, payload, Locator(char_start=0, char_end=len(data)), text=data.decode())


class BytesPage(WholePage):
    as_bytes = True


class ReadsThousandChars(HashEmbedder):
    name = "thousand"
    max_input = {TEXT: MaxInput(1000, "chars")}


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "long.page"
    path.write_text(PAGE)
    return path


def test_kit_flags_segments_longer_than_the_embedders_input(page: Path) -> None:
    with pytest.raises(AssertionError, match=r"3500 chars long, but embedder 'thousand' reads only 1000"):
        ModalityContract().test_segments_fit_the_embedders_input(WholePage(), page, [ReadsThousandChars()])
    ModalityContract().test_segments_fit_the_embedders_input(WholePage(), page, [HashEmbedder()])  # no limit: fine


def test_kit_flags_a_bytes_payload_on_a_text_segment(page: Path) -> None:
    with pytest.raises(AssertionError, match="text segment 0 has a bytes payload"):
        ModalityContract().test_text_segments_carry_str(BytesPage(), page)
    ModalityContract().test_text_segments_carry_str(WholePage(), page)


def test_kit_flags_a_segment_the_index_would_refuse(page: Path) -> None:
    class OpenEnded(WholePage):
        def extract(self, source: Source) -> Iterator[Segment]:
            for segment in super().extract(source):
                yield replace(segment, locator=Locator(start=2.0, end=float("inf")))

    with pytest.raises(AssertionError, match=r"segment 0 cannot be indexed: locator end=inf: times are finite seconds"):
        ModalityContract().test_segments_can_be_stored(OpenEnded(), page)
    ModalityContract().test_segments_can_be_stored(WholePage(), page)


def test_kit_flags_a_declared_kind_without_samples() -> None:
    class ClaimsAudio(HashEmbedder):
        name = "claims-audio"
        kinds = frozenset({TEXT, "image", "audio"})

    payloads = {"text": ["a", "b", "c"], "image": ["x", "y", "z"]}
    with pytest.raises(AssertionError, match=r"declares kinds \['audio'\] but the `payloads` fixture has none"):
        EmbedderContract().test_payloads_cover_every_declared_kind(ClaimsAudio(), payloads)


def test_kit_flags_the_default_info() -> None:
    class Silent(mmsearch.Embedder):
        name = "silent"
        kinds = frozenset({TEXT})
        model, dim = "silent-1", 4

        def embed_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
            return np.ones((len(payloads), 4), dtype=np.float32)

    assert "built in" not in Silent().info().weights, "the default must not claim built-in weights"
    with pytest.raises(AssertionError, match="must override info"):
        EmbedderContract().test_info_says_where_weights_come_from(Silent())
    EmbedderContract().test_info_says_where_weights_come_from(HashEmbedder())


def test_source_for_is_exported(page: Path) -> None:
    source = source_for(page)
    assert source.relpath == "long.page" and source.size == len(PAGE)


class TestTextModalityFitsLite(ModalityContract):
    """The built-in text chunker against the lite embedder's real tokenizer (256 word pieces)."""

    pytestmark = pytest.mark.slow

    @pytest.fixture
    def modality(self) -> mmsearch.Modality:
        from mmsearch_text.modality import TextModality

        return TextModality(1000, 200)

    @pytest.fixture
    def sample_file(self, page: Path) -> Path:
        return page.rename(page.with_suffix(".txt"))

    @pytest.fixture
    def corrupt_file(self, tmp_path: Path) -> Path:
        path = tmp_path / "bad.txt"
        path.write_bytes(b"\x00\x01\x02 binary")
        return path

    @pytest.fixture
    def embedders(self) -> Sequence[mmsearch.Embedder]:
        from mmsearch_lite import LiteEmbedder

        return [LiteEmbedder()]
