"""open_clip's eval resize and crop in PIL alone, for the ONNX image tower: no torch, no open_clip.

open_clip's eval transform for a square input with ``resize_mode="shortest"`` is torchvision's
``Resize(size)`` (shortest side to ``size``, the other ``int(size * long / short)``) then
``CenterCrop(size)`` (offsets ``int(round((side - size) / 2))``); ``"squash"`` is
``Resize((size, size))``. On PIL images torchvision does both with ``Image.resize`` and
``Image.crop``, so calling those here gives the same pixels (the tests compare them byte for byte
with open_clip's own transform). Normalisation is baked into the exported graph, so a prepared
image is the crop's uint8 array: a quarter of float32's bytes to queue and copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

INTERPOLATIONS = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}
RESIZE_MODES = ("shortest", "squash")


@dataclass(frozen=True)
class PilPrepare:
    size: int
    interpolation: str = "bicubic"
    resize_mode: str = "shortest"

    @staticmethod
    def supports(size: object, interpolation: str, resize_mode: str) -> bool:
        """Whether this class reproduces open_clip's transform for these settings (a square input
        and the two common resize modes); others keep open_clip's own transform and torch."""
        square = isinstance(size, int) or (isinstance(size, (tuple, list)) and len(set(size)) == 1)
        return square and interpolation in INTERPOLATIONS and resize_mode in RESIZE_MODES

    def __call__(self, image: Image.Image) -> np.ndarray:
        """An RGB image (transparency already flattened) -> the (size, size, 3) uint8 crop."""
        if image.mode != "RGB":
            image = image.convert("RGB")
        resample = INTERPOLATIONS[self.interpolation]
        size = self.size
        width, height = image.size
        if self.resize_mode == "squash":
            return np.asarray(image.resize((size, size), resample), dtype=np.uint8)
        if width <= height:
            new_w, new_h = size, int(size * height / width)
        else:
            new_w, new_h = int(size * width / height), size
        if (new_w, new_h) != (width, height):
            image = image.resize((new_w, new_h), resample)
        left = int(round((new_w - size) / 2.0))
        top = int(round((new_h - size) / 2.0))
        return np.asarray(image.crop((left, top, left + size, top + size)), dtype=np.uint8)


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with transparency flattened onto white.

    open_clip converts after resizing, which resizes palette images with nearest-neighbour and
    drops alpha: transparent clip-art and logos, whose hidden pixels are usually black, would be
    seen on a black background. Converting first, onto white, shows them as people see them.
    """
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return image.convert("RGB")
