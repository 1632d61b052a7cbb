"""Benchmark libraries on disk: large camera-like JPEGs and small clip-art PNGs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

#: Debian's openclipart-png (8,000+ transparent PNG drawings).
CLIPART = Path("/usr/share/openclipart/png")
#: scikit-image's bundled colour and grey photos (no download needed).
_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
           "retina", "colorwheel", "camera", "horse", "moon", "coins", "grass", "gravel", "brick")


def make_photos(folder: Path, count: int, size: tuple[int, int] = (4000, 3000), quality: int = 90) -> list[Path]:
    """``count`` distinct JPEGs of ``size``: random crops of scikit-image's photos, upscaled and
    noised so that neither the decoder nor the encoder sees flat, repeated content."""
    import skimage.data
    from skimage.util import img_as_ubyte

    sources = [img_as_ubyte(getattr(skimage.data, name)()) for name in _PHOTOS]  # some are bool or float
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        src = sources[i % len(sources)]
        src = np.stack([src] * 3, axis=-1) if src.ndim == 2 else src[..., :3]
        h, w = src.shape[:2]
        y, x = rng.integers(0, h // 4 + 1), rng.integers(0, w // 4 + 1)
        crop = Image.fromarray(src[y : y + 3 * h // 4, x : x + 3 * w // 4]).resize(size, Image.Resampling.BILINEAR)
        noise = rng.integers(-6, 7, (size[1], size[0], 3), dtype=np.int16)
        pixels = np.clip(np.asarray(crop, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
        path = folder / f"photo{i:03d}.jpg"
        Image.fromarray(pixels).save(path, quality=quality)
        paths.append(path)
    return paths


def copy_clipart(folder: Path, count: int, source: Path = CLIPART) -> list[Path]:
    """``count`` PNGs spread evenly over ``source``'s sorted tree (many subjects, not one folder)."""
    found = sorted(source.rglob("*.png")) if source.is_dir() else []
    if len(found) < count:
        raise SystemExit(
            f"{source}: {len(found)} PNG files, {count} needed; install Debian's openclipart-png "
            "(apt-get install openclipart-png) or ask for fewer with --clipart N"
        )
    step = len(found) / count
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        src = found[int(i * step)]
        path = folder / f"clip{i:03d}-{src.name}"
        shutil.copyfile(src, path)
        paths.append(path)
    return paths


def ready(folder: Path, pattern: str, count: int) -> bool:
    """True when ``folder`` already holds ``count`` files from an earlier run (kept under --out)."""
    return folder.is_dir() and len(list(folder.glob(pattern))) == count
