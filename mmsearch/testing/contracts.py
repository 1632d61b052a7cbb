"""Contract test classes. Each test method states a promise the engine relies on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ..embedder import Embedder
from ..errors import ExtractError
from ..modality import Modality
from ..types import Segment, Source


def source_for(path: Path) -> Source:
    return Source(path=path, relpath=path.name, size=path.stat().st_size)


class ModalityContract:
    """Provide fixtures ``modality`` (an instance), ``sample_file`` (a Path it must read into at
    least one segment) and ``corrupt_file`` (a Path with an accepted extension that it must reject)."""

    def test_declares_name_kinds_and_extensions(self, modality: Modality) -> None:
        assert isinstance(modality, Modality)
        assert isinstance(modality.name, str) and modality.name
        assert modality.kinds and all(isinstance(k, str) for k in modality.kinds)
        assert all(ext.startswith(".") and ext == ext.lower() for ext in modality.extensions)

    def test_accepts_its_sample(self, modality: Modality, sample_file: Path) -> None:
        assert modality.accepts(sample_file)

    def test_extracts_segments_of_declared_kinds(self, modality: Modality, sample_file: Path) -> None:
        segments = list(modality.segments(source_for(sample_file)))
        assert segments, f"{modality.name} yielded no segment for {sample_file.name}"
        for segment in segments:
            assert isinstance(segment, Segment)
            assert segment.kind in modality.kinds

    def test_extraction_is_deterministic(self, modality: Modality, sample_file: Path) -> None:
        first = [(s.kind, s.locator, s.text) for s in modality.segments(source_for(sample_file))]
        second = [(s.kind, s.locator, s.text) for s in modality.segments(source_for(sample_file))]
        assert first == second

    def test_corrupt_file_raises_extract_error_naming_it(self, modality: Modality, corrupt_file: Path) -> None:
        with pytest.raises(ExtractError) as info:
            list(modality.segments(source_for(corrupt_file)))
        assert corrupt_file.name in str(info.value)
        assert info.value.reason


class EmbedderContract:
    """Provide fixtures ``embedder`` (an instance) and ``payloads`` (kind -> at least 3 payloads
    of that kind, pairwise different)."""

    def test_declares_a_space(self, embedder: Embedder) -> None:
        space = embedder.space
        assert space.embedder == embedder.name and space.model and space.dim > 0
        assert space.kinds == frozenset(embedder.kinds)

    def test_vectors_are_normalised_float32_of_dim(self, embedder: Embedder, payloads: Mapping[str, Sequence[Any]]) -> None:
        for kind, items in payloads.items():
            vectors = embedder.embed(kind, items)
            assert vectors.dtype == np.float32
            assert vectors.shape == (len(items), embedder.dim)
            np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)

    def test_query_vectors_are_normalised_float32_of_dim(self, embedder: Embedder, payloads: Mapping[str, Sequence[Any]]) -> None:
        for kind, items in payloads.items():
            vectors = embedder.embed(kind, items, query=True)
            assert vectors.dtype == np.float32 and vectors.shape == (len(items), embedder.dim)
            np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)

    def test_batching_does_not_change_vectors(self, embedder: Embedder, payloads: Mapping[str, Sequence[Any]]) -> None:
        for kind, items in payloads.items():
            together = embedder.embed(kind, items)
            one_by_one = np.concatenate([embedder.embed(kind, [item]) for item in items])
            np.testing.assert_allclose(together, one_by_one, atol=2e-3)

    def test_different_payloads_give_different_vectors(self, embedder: Embedder, payloads: Mapping[str, Sequence[Any]]) -> None:
        for kind, items in payloads.items():
            vectors = embedder.embed(kind, items)
            sims = vectors @ vectors.T
            off_diagonal = sims[~np.eye(len(items), dtype=bool)]
            assert (off_diagonal < 0.9999).all()

    def test_refuses_kinds_it_does_not_take(self, embedder: Embedder) -> None:
        from ..errors import PluginError

        with pytest.raises(PluginError):
            embedder.embed("no-such-kind", ["x"])

    def test_info_says_where_weights_come_from(self, embedder: Embedder) -> None:
        info = embedder.info()
        assert isinstance(info.available, bool) and info.weights
