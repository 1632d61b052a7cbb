"""How much an image looks drawn rather than photographed, from its pixels alone.

The statistic is the *flat share*: the fraction of pixels of the 224×224 crop the image tower sees
that equal their right and lower neighbours exactly (all three channels). Clip art, icons and
emoji are mostly runs of one colour (transparency flattened onto white counts as one colour, so
it is measured from what the embedder is given, with or without an alpha channel); a photo's
sensor noise and JPEG artefacts leave almost no two neighbours equal. On the validation clip art
90 % of drawings have a flat share ≥ 0.47, while 22 of the 26 scikit-image pictures are ≤ 0.19
(gate_fit.py). Computed on the preprocessed tensor, so every caller (indexing, the tuning scripts,
the tests) gets the same number for the same image.

``gate(flat) = clip((flat − FLAT_PHOTO) / (FLAT_DRAWING − FLAT_PHOTO), 0, 1)``: 0 = photo,
1 = drawing. The two ends were chosen with the mix weights on the validation split (gate_fit.py,
RESULTS.md "Session 6"), under one rule validation cannot check: H.264 and heavy JPEG flatten
smooth skies (the rocket photo as a video frame: 0.304, as a JPEG 0.12), and such a frame must
still be scored as a photo, so the photo end sits at 0.3 and only an image at least 60 % flat counts
fully as a drawing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Flat share at and below which an image counts as a photo, and at and above which as a drawing.
FLAT_PHOTO = 0.3
FLAT_DRAWING = 0.6


def flat_share(image: Any) -> float:
    """Share of pixels equal to their right and lower neighbours, for one (3, H, W) tensor or
    array (any dtype: the preprocessing maps uint8 to floats one to one, so equality is kept)."""
    array = np.asarray(image.numpy() if hasattr(image, "numpy") else image)
    same_right = (array[:, :, 1:] == array[:, :, :-1]).all(axis=0)
    same_below = (array[:, 1:, :] == array[:, :-1, :]).all(axis=0)
    return float((same_right[:-1, :] & same_below[:, :-1]).mean())


def flat_shares(images: Any) -> np.ndarray:
    """:func:`flat_share` of each image of a batch, float32 (n,)."""
    return np.array([flat_share(image) for image in images], dtype=np.float32)


def gate(flat: np.ndarray, photo: float = FLAT_PHOTO, drawing: float = FLAT_DRAWING) -> np.ndarray:
    """0 (photo) … 1 (drawing) per image, from flat shares."""
    return np.clip((np.asarray(flat, dtype=np.float64) - photo) / (drawing - photo), 0.0, 1.0)
