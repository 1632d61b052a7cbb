"""Per-leg score calibration, so that a fused score means the same across modalities.

A raw cosine means different things per space and per (query kind, segment kind): CLIP
text→image scores cluster near 0.2–0.35, text→text near 0.5–0.9. Each hit's raw score becomes a
z-score: against what a bank of generic queries scores on that same segment when the query kind
has a bank (see ``bank.py``), else against what this query scores on a random sample of the
leg's segments. A logistic map then gives a score in [0, 1]; a true match stands several
standard deviations above its baseline, a nonsense query's best hit does not.
"""

from __future__ import annotations

import faiss
import numpy as np

from ..vectors.faiss_index import VectorIndex

SAMPLE = 2048
MIN_STD = 0.02  # near-identical baselines (tiny libraries, a degenerate bank) must not blow up z
CENTER = 3.0  # z at which the calibrated score is 0.5
WIDTH = 0.75


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
        if n == 0:
            vectors = np.zeros((0, index.dim), np.float32)
        else:
            flat = faiss.downcast_index(index.index.index)
            positions = np.sort(np.random.default_rng(self._seed).choice(n, size=min(n, SAMPLE), replace=False))
            vectors = flat.reconstruct_batch(positions.astype(np.int64))
        self._cache[key] = (generation, vectors)
        return vectors


def z_against_background(query: np.ndarray, raw: np.ndarray, background: np.ndarray) -> np.ndarray:
    """How far each raw score stands above this query's scores on the library."""
    if len(background) < 2:
        return raw / MIN_STD
    sims = background @ query
    return (raw - float(sims.mean())) / max(float(sims.std()), MIN_STD)


def z_against_bank(raw: np.ndarray, hit_vectors: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """How far each raw score stands above what generic queries score on the same segment."""
    sims = hit_vectors @ bank.T  # (hits, bank)
    return (raw - sims.mean(axis=1)) / np.maximum(sims.std(axis=1), MIN_STD)


def squash(z: np.ndarray, center: float = CENTER, width: float = WIDTH) -> np.ndarray:
    """Logistic map of z to [0, 1]: 0.5 at ``center`` standard deviations above the baseline."""
    return 1.0 / (1.0 + np.exp(-(np.asarray(z, dtype=np.float64) - center) / width))
