"""Deterministic fakes for tests that need no real model (like llm's EmbedDemo)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pluggy

from ..embedder import Embedder, ModelInfo
from ..types import IMAGE, TEXT

hookimpl = pluggy.HookimplMarker("mmsearch")


class HashEmbedder(Embedder):
    """Bag-of-words hashing into 64 dims: texts sharing words score high together.

    Images embed as the words of ``payload.info["words"]`` when set (tests tag images that
    way), else as their mean colour. Useless for real retrieval; exact and fast for tests.
    """

    name = "hash"
    kinds = frozenset({TEXT, IMAGE})

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.model = f"hash-{dim}"

    def _words(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            vec[int.from_bytes(digest[:4], "little") % self.dim] += 1.0
        if not vec.any():
            vec[0] = 1e-3
        return vec

    def info(self) -> ModelInfo:
        return ModelInfo(available=True, weights="none: word hashing, no trained weights")

    def prepare(self, kind: str, payload: Any) -> Any:
        if kind == IMAGE:
            words = payload.info.get("words") if hasattr(payload, "info") else None
            if words:
                return ("words", words)
            pixels = np.asarray(payload.convert("RGB").resize((8, 8)), dtype=np.float32)
            return ("pixels", pixels.reshape(-1, 3).mean(axis=0))
        return payload

    def embed_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        rows = []
        for payload in payloads:
            if kind == TEXT:
                rows.append(self._words(payload))
            elif payload[0] == "words":
                rows.append(self._words(payload[1]))
            else:
                vec = np.zeros(self.dim, dtype=np.float32)
                vec[-3:] = payload[1] + 1.0
                rows.append(vec)
        return np.stack(rows)


def fake_plugin(*embedders: Embedder) -> object:
    """A plugin object registering ``embedders`` (default: one HashEmbedder)."""
    chosen = embedders or (HashEmbedder(),)

    class _FakePlugin:
        @hookimpl
        def register_embedders(self, register: Callable[[Embedder], None]) -> None:
            for embedder in chosen:
                register(embedder)

    return _FakePlugin()
