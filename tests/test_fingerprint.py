"""A picture's fingerprint: its exports and resizes match it, other pictures and pictures without
structure (gradients, stripes, blank pages) match nothing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mmsearch.fingerprint import fingerprint, is_fingerprint, same_picture

skimage_data = pytest.importorskip("skimage.data")
PHOTOS = ("astronaut", "camera", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field", "brick", "grass", "gravel")


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skimage_data, name)()).convert("RGB")


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def test_exports_and_resizes_are_the_same_picture_and_other_photos_are_not() -> None:
    originals = [fingerprint(photo(name)) for name in PHOTOS]
    assert all(p is not None and is_fingerprint(p) for p in originals)
    for name, original in zip(PHOTOS, originals):
        image = photo(name)
        copies = [jpeg(image, 75), jpeg(image, 50), jpeg(image, 30), image.resize((image.width // 2, image.height // 2)),
                  jpeg(image.resize((image.width // 2, image.height // 2)), 75)]
        prints = [fingerprint(c) for c in copies]
        assert all(p is not None for p in prints), name
        assert same_picture([original], prints).all(), name  # type: ignore[list-item]
        others = [p for n, p in zip(PHOTOS, originals) if n != name]
        assert not same_picture([original], others).any(), name  # type: ignore[list-item]


def test_pictures_without_structure_have_no_fingerprint() -> None:
    ramp = np.tile(np.linspace(0, 255, 256, dtype=np.uint8), (256, 1))
    stripes = np.repeat((np.arange(256) // 32 % 2 * 255).astype(np.uint8), 256).reshape(256, 256)
    for array in (ramp, ramp.T.copy(), stripes, np.full((64, 64), 255, np.uint8), np.zeros((64, 64), np.uint8)):
        assert fingerprint(Image.fromarray(array).convert("RGB")) is None
    assert not same_picture([], ["0" * 32]).any() and same_picture(["0" * 32], []).shape == (0,)
