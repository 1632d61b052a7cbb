"""One space, two image representations, mixed per image: how lite scores each direction.

Photos need the bridge for text queries, drawings the projection (RESULTS.md), so the projection's
share of an image's text→image score is ``w = W_PHOTO + g·(W_DRAWING − W_PHOTO)`` with ``g`` the
image's drawing gate (gate.py, from its pixels). A lite vector has four parts, each 384-d block
unit length before weighting:

* an indexed image stores ``[α·bridge | β·projection | γ·projection | s]``;
* a text (indexed or a query) stores ``[qb·text | qp·text | 0 | 0]``;
* an example image (search by example) queries with ``[0 | 0 | projection | 0]``.

With ``α = k·(1 − w)/qb`` and ``β = k·w/qp`` the cosines decompose per direction:

* text→image: ``k·((1 − w)·(text·bridge) + w·(text·projection))``: a convex mix whose scale ``k``
  is the same for every image, so a drawing never outranks a photo merely because its mix runs
  higher; ``s = √(1 − α² − β² − γ²)`` (one extra dimension no query uses) keeps images unit length;
* image→image: ``γ·(projection·projection')``, one constant for every image: search by example
  ranks exactly by the projection, which finds altered copies far better than the bridge;
* text→text: ``text·text'`` (qb² + qp² = 1), plain MiniLM, unchanged;
* example image→text: 0 (examples find images; documents are found by words).

``qb`` is the split that lets the largest ``k`` fit in unit length over [W_PHOTO, W_DRAWING].
Text queries and indexed texts are the same vector, so anything that embeds query texts as indexed
texts (the calibration's query bank) sees true query vectors. No second vector per segment, no
schema change; the constants are part of the model id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BLOCK = 384
DIM = 3 * BLOCK + 1


@dataclass(frozen=True)
class Layout:
    """The projection's text→image share for a photo (gate 0) and a drawing (gate 1), and the
    constant scale of search-by-example cosines."""

    w_photo: float
    w_drawing: float
    example_scale: float = math.sqrt(0.2)  # the by-example scale of the fixed-weight blend it replaces

    @property
    def split(self) -> tuple[float, float]:
        """(qb, qp): the text's weights on the bridge and projection blocks."""
        return _best_split(self.w_photo, self.w_drawing)

    @property
    def text_scale(self) -> float:
        """``k``: every text→image cosine is k times the convex mix."""
        qb = self.split[0]
        need = max(_norm2(w, qb * qb) for w in (self.w_photo, self.w_drawing))
        return math.sqrt((1.0 - self.example_scale**2) / need)

    @property
    def version(self) -> str:
        """In the model id: vectors made with other constants are not comparable."""
        return f"p{self.w_photo:g}-d{self.w_drawing:g}-x{self.example_scale:.3g}"

    def weights(self, gates: np.ndarray) -> np.ndarray:
        """Each image's projection share ``w`` from its gate in [0, 1]."""
        return self.w_photo + np.clip(np.asarray(gates, dtype=np.float64), 0.0, 1.0) * (self.w_drawing - self.w_photo)


def _norm2(w: float, qb2: float) -> float:
    # α² + β² per unit k², for share w and bridge split qb² (both blocks unit length)
    return (1.0 - w) ** 2 / qb2 + w**2 / (1.0 - qb2)


def _best_split(w_photo: float, w_drawing: float) -> tuple[float, float]:
    # the α²+β² needed is convex in w, so its largest value over the range sits at an end; the split
    # minimising that largest value leaves the most room for k (a fine grid: exact enough, no solver)
    if w_photo <= 0.0 and w_drawing <= 0.0:
        return 1.0, 0.0
    if w_photo >= 1.0 and w_drawing >= 1.0:
        return 0.0, 1.0
    grid = np.linspace(0.001, 0.999, 999)
    need = np.maximum(*(((1.0 - w) ** 2) / grid + (w**2) / (1.0 - grid) for w in (w_photo, w_drawing)))
    qb2 = float(grid[int(np.argmin(need))])
    return math.sqrt(qb2), math.sqrt(1.0 - qb2)


#: Chosen on the validation clip art + emoji (queried by name) and the 19 tuning photo queries
#: (gate_fit.py, RESULTS.md "Session 6"): photos keep w_photo and the gate ends, drawings get the
#: share with the best validation R@1; nothing held out was read to choose.
LAYOUT = Layout(w_photo=0.2, w_drawing=1.0)
VERSION = LAYOUT.version


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def image_vectors(bridged: np.ndarray, projected: np.ndarray, gates: np.ndarray, layout: Layout = LAYOUT) -> np.ndarray:
    """(n, DIM) unit vectors of indexed images, from the bridge and projection outputs (n, 384)
    and each image's drawing gate (n,)."""
    qb, qp = layout.split
    k, gamma = layout.text_scale, layout.example_scale
    w = layout.weights(gates)[:, None]
    alpha = k * (1.0 - w) / qb if qb > 0 else np.zeros_like(w)
    beta = k * w / qp if qp > 0 else np.zeros_like(w)
    slack = np.sqrt(np.maximum(1.0 - alpha**2 - beta**2 - gamma**2, 0.0))
    unit_p = _unit(projected)
    parts = [alpha * _unit(bridged), beta * unit_p, gamma * unit_p, slack]
    return np.concatenate(parts, axis=1).astype(np.float32)


def text_vectors(texts: np.ndarray, layout: Layout = LAYOUT) -> np.ndarray:
    """(n, DIM) unit vectors of texts, queries and indexed alike, from MiniLM vectors (n, 384)."""
    qb, qp = layout.split
    unit = _unit(texts)
    zeros = np.zeros((len(unit), BLOCK + 1), dtype=np.float32)
    return np.concatenate([qb * unit, qp * unit, zeros], axis=1).astype(np.float32)


def example_vectors(projected: np.ndarray) -> np.ndarray:
    """(n, DIM) unit vectors of example images (queries): the projection in its own block."""
    n = len(projected)
    zeros = np.zeros((n, 2 * BLOCK), dtype=np.float32)
    return np.concatenate([zeros, _unit(projected), np.zeros((n, 1), np.float32)], axis=1).astype(np.float32)
