"""Issue 10 item 12: a newly installed text-only embedder must not silently become the default for
new indexes; the default covers the most kinds, then has the highest priority."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mmsearch
from mmsearch.testing import HashEmbedder, fake_plugin
from mmsearch.types import TEXT


class LoudTextOnly(mmsearch.Embedder):
    name = "loud-text"
    kinds = frozenset({TEXT})
    priority = 1000
    model = "loud-1"
    dim = 8

    def embed_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        return np.ones((len(payloads), self.dim), dtype=np.float32)


def test_new_index_prefers_the_embedder_covering_more_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMSEARCH_LOAD_PLUGINS", "")  # only the two embedders below
    with mmsearch.Engine.open(tmp_path / "index", plugins=[fake_plugin(HashEmbedder(), LoudTextOnly())]) as engine:
        assert "'hash'" in (engine.space_note or ""), engine.space_note


def test_priority_breaks_ties_between_equal_coverage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Preferred(HashEmbedder):
        name = "preferred"
        priority = 5

    monkeypatch.setenv("MMSEARCH_LOAD_PLUGINS", "")
    with mmsearch.Engine.open(tmp_path / "index", plugins=[fake_plugin(HashEmbedder(), Preferred())]) as engine:
        assert "'preferred'" in (engine.space_note or ""), engine.space_note
