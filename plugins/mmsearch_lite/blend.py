"""One space, two image representations: how lite scores each direction with what measures best.

A lite vector is two 384-d blocks, weighted ``cb = √(1 − W)`` and ``cp = √W`` (W = the projection's
share of text→image scores):

* an indexed image stores ``[cb·bridge | cp·projection]`` (each block unit length);
* a text (indexed or a query) stores ``[cb·text | cp·text]``;
* an example image (search by example) queries with ``[0 | projection]``.

Cosines then decompose per direction:

* text→image: ``(1 − W)·(text·bridge) + W·(text·projection)``, a convex mix chosen on validation;
* image→image: ``cp·(projection·projection')``, the projection alone, which finds altered copies
  far better than the bridge (RESULTS.md);
* text→text: ``text·text'``, plain MiniLM, unchanged;
* image→text: ``cp·(projection·text)``.

Text queries and indexed texts are the same vector, so anything that embeds query texts as
indexed texts (the calibration's query bank) sees true query vectors. No second vector per
segment, no schema change; the weight is part of the model id.
"""

from __future__ import annotations

import numpy as np

#: Candidate shares of the projection in text→image scores (the validation grid of by_example.py).
TEXT_WEIGHTS = (0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.75, 1.0)
#: The best validation text→image R@1 among weights that keep first every photo query the bridge
#: alone ranks first (by_example.py, RESULTS.md): 11.3 % on validation vs 4.3 % for the bridge,
#: photos 14/19 vs 13/19.
TEXT_PROJECTION_WEIGHT = 0.2
DIM = 768
#: In the model id: vectors made with another weight are not comparable.
VERSION = f"w{TEXT_PROJECTION_WEIGHT:g}"


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _blocks(weight: float) -> tuple[float, float]:
    return float(np.sqrt(1.0 - weight)), float(np.sqrt(weight))


def image_vectors(bridged: np.ndarray, projected: np.ndarray, weight: float = TEXT_PROJECTION_WEIGHT) -> np.ndarray:
    """(n, 768) unit vectors of indexed images, from the bridge and projection outputs (n, 384)."""
    cb, cp = _blocks(weight)
    return np.concatenate([cb * _unit(bridged), cp * _unit(projected)], axis=1).astype(np.float32)


def text_vectors(texts: np.ndarray, weight: float = TEXT_PROJECTION_WEIGHT) -> np.ndarray:
    """(n, 768) unit vectors of texts, queries and indexed alike, from MiniLM vectors (n, 384)."""
    cb, cp = _blocks(weight)
    unit = _unit(texts)
    return np.concatenate([cb * unit, cp * unit], axis=1).astype(np.float32)


def example_vectors(projected: np.ndarray) -> np.ndarray:
    """(n, 768) unit vectors of example images (queries): the projection block alone."""
    return np.concatenate([np.zeros_like(projected, dtype=np.float32), _unit(projected)], axis=1).astype(np.float32)
