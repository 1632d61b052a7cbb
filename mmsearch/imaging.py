"""Pixels as every embedder and OCR should see them: RGB, transparency composited, 16-bit and
float images scaled to 8 bits. Shared by the image modality and the OCR plugin (a plugin may not
import another plugin's internals)."""

from __future__ import annotations

import numpy as np
from PIL import Image

#: Where transparent pixels land. White, as people see icons on a page and as the lite towers and
#: the CLIP preprocessing flatten them (the lite projection was trained on clip art on white);
#: measured against mid-grey in plugins/mmsearch_lite/RESULTS.md.
BACKGROUND = (255, 255, 255)


def flatten(image: Image.Image, background: tuple[int, int, int] = BACKGROUND) -> Image.Image:
    """RGB with any transparency composited onto ``background``.

    A plain ``convert("RGB")`` drops the alpha channel and keeps the hidden colour under it,
    usually black: line icons (black strokes on transparency) would all reach the embedder as the
    same black square, and clip art on a background no model was shown.
    """
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*background, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return eight_bit(image).convert("RGB")


def eight_bit(image: Image.Image) -> Image.Image:
    """A 16-bit or float single-channel image (scanners, microscopes, astronomy) as 8-bit grey.

    Pillow's ``convert`` clips such values at 255, so a 16-bit scan came out as a white square.
    16-bit data is scaled by 257 (65535 -> 255); floats in 0..1 by 255; anything else (negative or
    larger values) is stretched from its own range."""
    if image.mode not in ("I", "F") and not image.mode.startswith("I;"):
        return image
    values = np.asarray(image, dtype=np.float64)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if low >= 0 and high <= 1 and image.mode == "F":
        values = values * 255.0
    elif low >= 0 and high <= 255:
        pass
    elif low >= 0 and high <= 65535:
        values = values / 257.0
    else:
        values = (values - low) * (255.0 / max(high - low, 1e-12))
    return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), "L")
