"""The base class an embedder plugin subclasses. Authors implement :meth:`Embedder.embed_batch`."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .errors import EmbedError, PluginError
from .types import Space


@dataclass(frozen=True)
class ModelInfo:
    """What ``mmsearch models`` shows for an embedder."""

    available: bool  # usable here without a network
    weights: str  # where the weights come from
    detail: str = ""  # why not available, and how to make it so


class Embedder(ABC):
    """Maps payloads of some kinds into one embedding space.

    Subclasses set ``name`` and ``kinds`` and, per instance, ``model`` (identity of the weights,
    e.g. ``"ViT-B-32/laion2b_s34b_b79k"``) and ``dim``; they implement :meth:`embed_batch`.
    Optional: :meth:`load` (heavy set-up, run once on first use), :meth:`prepare` (per-payload
    preprocessing, run in decode threads so the model does not wait), :meth:`embed_query_batch`
    (queries embedded unlike indexed segments) and :meth:`info`.
    The base class owns batching, kind checks, dtype/shape checks and L2 normalisation.
    """

    name: ClassVar[str]
    kinds: ClassVar[frozenset[str]]
    model: str
    dim: int
    batch_size: int = 32
    #: Preference when a new index picks its space among the embedders available offline.
    priority: ClassVar[int] = 0

    _loaded: bool = False
    _load_lock: threading.Lock | None = None

    @abstractmethod
    def embed_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        """Embed payloads of one kind (already through :meth:`prepare`): an (n, dim) array."""

    def embed_query_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        """Embed payloads of one kind *as a query*. The default embeds them as :meth:`embed_batch`
        does; an asymmetric embedder (one that places queries and indexed segments differently,
        as E5's "query:" prefix does) overrides this."""
        return self.embed_batch(kind, payloads)

    def load(self) -> None:
        """Load weights. Called once, lazily, before the first :meth:`embed_batch`."""

    def prepare(self, kind: str, payload: Any) -> Any:
        """Preprocess one payload (e.g. resize and normalise an image). Must be thread-safe."""
        return payload

    def info(self) -> ModelInfo:
        return ModelInfo(available=True, weights="built in")

    # -- owned by the base class -------------------------------------------------------------

    @property
    def space(self) -> Space:
        return Space(embedder=self.name, model=self.model, dim=int(self.dim), kinds=frozenset(self.kinds))

    def ensure_loaded(self) -> None:
        if self._loaded:
            return
        if self._load_lock is None:
            self._load_lock = threading.Lock()
        with self._load_lock:
            if not self._loaded:
                self.load()
                self._loaded = True

    def accepts(self, kind: str) -> bool:
        return kind in self.kinds

    def embed(self, kind: str, payloads: Iterable[Any], prepared: bool = False, query: bool = False) -> np.ndarray:
        """Embed any number of payloads: batched, checked, L2-normalised float32 (n, dim).
        ``query``: embed them as a search query (:meth:`embed_query_batch`), not as indexed segments."""
        if kind not in self.kinds:
            raise PluginError(f"embedder {self.name!r} takes {sorted(self.kinds)} payloads, not {kind!r}")
        self.ensure_loaded()
        items = list(payloads) if prepared else [self.prepare(kind, p) for p in payloads]
        chunks = [self._embed_checked(kind, batch, query) for batch in _batches(items, max(1, self.batch_size))]
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(chunks)

    def _embed_checked(self, kind: str, batch: Sequence[Any], query: bool = False) -> np.ndarray:
        out = self.embed_query_batch(kind, batch) if query else self.embed_batch(kind, batch)
        if hasattr(out, "detach"):  # a torch tensor slipped through
            out = out.detach().float().cpu().numpy()
        out = np.asarray(out)
        if out.shape != (len(batch), self.dim):
            raise EmbedError(
                f"embedder {self.name!r} returned shape {out.shape} for {len(batch)} {kind} payloads; expected ({len(batch)}, {self.dim})"
            )
        out = out.astype(np.float32, copy=False)
        if not np.isfinite(out).all():
            raise EmbedError(f"embedder {self.name!r} returned NaN or infinite values for a {kind} batch")
        return l2_normalize(out)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
