"""A picture's fingerprint: its exports and resizes match it, other pictures and pictures without
structure (gradients, stripes, blank pages) match nothing."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmsearch.fingerprint import fingerprint, is_fingerprint, same_picture
from mmsearch.imaging import flatten

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
    assert not same_picture([], ["0" * 43]).any() and same_picture(["0" * 43], []).shape == (0,)


def test_a_recoloured_picture_or_a_twin_icon_is_not_the_same_picture() -> None:
    """A second probe: the scikit-image logo recoloured, and openclipart's up-arrow button found
    its down-arrow twin, both as "same picture" at 1.000."""
    logo = Image.fromarray(skimage_data.logo()).convert("RGB")
    hue = np.asarray(logo.convert("HSV")).copy()
    hue[..., 0] = (hue[..., 0].astype(int) + 85) % 256
    recoloured = Image.fromarray(hue, "HSV").convert("RGB")
    assert not same_picture([fingerprint(logo)], [fingerprint(recoloured)]).any()  # type: ignore[list-item]
    assert same_picture([fingerprint(logo)], [fingerprint(jpeg(logo, 50))]).all()  # type: ignore[list-item]
    buttons = Path("/usr/share/openclipart/png/computer/buttons")
    if (buttons / "b_up.png").is_file() and (buttons / "b_down.png").is_file():
        up, down = (flatten(Image.open(buttons / name)) for name in ("b_up.png", "b_down.png"))
        assert not same_picture([fingerprint(up)], [fingerprint(down)]).any()  # type: ignore[list-item]
