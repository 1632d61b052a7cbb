"""Per-leg score calibration against the index's own background.

A raw cosine means different things per space and per (query kind, segment kind): CLIP
text→image scores cluster near 0.2–0.35, text→text near 0.5–0.9. Each leg's scores are turned
into a z-score against the same query's scores over a random sample of that leg's segments, then
squashed to [0, 1]. A true match stands several standard deviations above the crowd; a nonsense
query's best hit does not.
"""

from __future__ import annotations

import faiss
import numpy as np

from ..vectors.faiss_index import VectorIndex

SAMPLE = 2048
MIN_STD = 0.02  # cosines of near-identical backgrounds (tiny libraries) must not blow up z


class Background:
    """A cached random sample of one (space, kind) index, refreshed when the index changes."""

    def __init__(self, seed: int = 0) -> None:
        self._cache: dict[tuple[int, str], tuple[int, np.ndarray]] = {}
        self._seed = seed

    def sample(self, key: tuple[int, str], generation: int, index: VectorIndex) -> np.ndarray:
        cached = self._cache.get(key)
        if cached is not None and cached[0] == generation:
            return cached[1]
        n = len(index)
        flat = faiss.downcast_index(index.index.index)
        rng = np.random.default_rng(self._seed)
        positions = np.sort(rng.choice(n, size=min(n, SAMPLE), replace=False)) if n else np.zeros(0, dtype=np.int64)
        vectors = flat.reconstruct_batch(positions.astype(np.int64)) if n else np.zeros((0, index.dim), np.float32)
        self._cache[key] = (generation, vectors)
        return vectors


def zscores(query: np.ndarray, raw: np.ndarray, background: np.ndarray) -> np.ndarray:
    if len(background) < 2:
        return raw / MIN_STD
    sims = background @ query
    return (raw - float(sims.mean())) / max(float(sims.std()), MIN_STD)


def squash(z: np.ndarray, center: float = 2.5, width: float = 0.75) -> np.ndarray:
    """Logistic map of z to [0, 1]: 0.5 at ``center`` standard deviations above the background."""
    return 1.0 / (1.0 + np.exp(-(z - center) / width))
