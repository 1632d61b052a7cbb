"""``photos``: the scikit-image sample photos, each with two or three hand-written captions.

The captions were written for this set by looking at the photos, before any run; none was changed
after seeing a ranking. Files get neutral names (``IMG_0001.jpg``) so only the pixels can find them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .common import LabelWriter, add_absent, fresh_dir

#: skimage.data loader -> (what it shows, as the query ids name it; captions). Loaders that need a download are not used.
PHOTOS: dict[str, tuple[str, tuple[str, ...]]] = {
    "astronaut": ("astronaut.jpg", ("an astronaut in a white spacesuit", "a smiling woman astronaut with an american flag",
                                    "portrait of a space crew member")),
    "camera": ("cameraman.png", ("a man with a camera on a tripod", "black and white photo of a photographer outdoors")),
    "chelsea": ("cat.jpg", ("a ginger tabby cat", "close-up of a cat looking sideways", "a pet cat with whiskers")),
    "coffee": ("coffee.jpg", ("a cup of coffee on a saucer", "a cappuccino with milk foam", "a hot drink in a white cup")),
    "coins": ("coins.png", ("old coins on a table", "a collection of metal coins", "grey photo of money")),
    "horse": ("horse.png", ("a silhouette of a horse", "a black horse shape on a white background")),
    "hubble_deep_field": ("deep_field.jpg", ("distant galaxies in deep space", "a telescope image of the night sky full of galaxies")),
    "immunohistochemistry": ("tissue.jpg", ("a stained tissue sample under a microscope", "a microscope slide of cells stained brown and blue")),
    "moon": ("moon.png", ("the surface of the moon", "craters on the lunar surface")),
    "page": ("page.png", ("a scanned page of printed text", "a photo of a book page with words")),
    "rocket": ("rocket.jpg", ("a rocket on the launch pad", "a space launch vehicle before lift off", "a rocket at sunset")),
    "retina": ("retina.jpg", ("a photo of the retina of an eye", "the back of the eye with blood vessels")),
    "clock": ("clock.png", ("a wall clock", "a blurred photo of a clock face")),
    "brick": ("brick.png", ("a brick wall", "the texture of a wall made of bricks")),
    "grass": ("grass.png", ("a close-up of grass", "green lawn blades of grass")),
    "gravel": ("gravel.png", ("gravel on the ground", "small pebbles and stones")),
    "colorwheel": ("colour_wheel.png", ("a colour wheel", "a circle with all the colours of the rainbow")),
    "checkerboard": ("checkerboard.png", ("a black and white checkerboard", "a chess board pattern of squares")),
    "cell": ("cell.png", ("a single cell seen through a microscope", "a grey microscopy image of a cell")),
}


def _image(loader: str) -> Image.Image:
    import skimage.data

    pixels = getattr(skimage.data, loader)()
    if pixels.dtype != np.uint8:  # a few samples are float or bool
        pixels = (255 * (pixels.astype(np.float64) / max(float(pixels.max()), 1e-9))).astype(np.uint8)
    return Image.fromarray(pixels)


def missing_sources() -> str | None:
    try:
        import skimage.data  # noqa: F401
    except ImportError:
        return "scikit-image is not installed (pip install scikit-image)"
    return None


def build(out: Path) -> None:
    library = fresh_dir(out)
    labels = LabelWriter()
    captions: list[str] = []
    for n, (loader, (label, texts)) in enumerate(PHOTOS.items(), start=1):
        image = _image(loader)
        name = f"IMG_{n:04d}{Path(label).suffix}"
        image.save(library / name, quality=92) if name.endswith(".jpg") else image.save(library / name)
        for i, text in enumerate(texts, start=1):
            labels.query(f"{Path(label).stem}-{i}", text, [name])
        captions += texts
    add_absent(labels, captions)
    labels.write(out / "labels.jsonl")
