"""Thumbnails, made on first request and cached in ``<index>/thumbs``: the picture for an image,
the frame at the evidence time for a video, an icon for everything else."""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import random
from pathlib import Path

from PIL import Image, ImageOps

ICONS = Path(__file__).with_name("static") / "icons"
#: Frames decoded past the seek point before giving up on reaching the asked time (a keyframe
#: every few seconds at 30 fps is well inside this).
MAX_FRAMES = 600
MAX_SECONDS = 7 * 24 * 3600
#: Tiles kept in the cache (about 20 KB each: some 400 MB at most); pruned now and then on write.
MAX_TILES = 20_000
PRUNE_CHANCE = 0.01


def icon_for(modality: str) -> Path:
    icon = ICONS / f"{modality}.svg"
    return icon if icon.is_file() else ICONS / "file.svg"


def thumbnail(real: Path, modality: str, at: float | None, cache_dir: Path, px: int) -> Path:
    """A cached JPEG for images and videos; the modality's icon otherwise or when decoding fails."""
    if modality not in ("image", "video"):
        return icon_for(modality)
    stat = real.stat()
    # A tile per whole second, and none past a week: every distinct ?t= (even past the video's
    # end) wrote a new file.
    at = at if at is not None and math.isfinite(at) else 0.0  # ?t=nan or ?t=inf gave a 500
    when = float(min(int(max(at, 0.0)), MAX_SECONDS)) if modality == "video" else 0.0
    key = hashlib.sha256(f"{real}|{stat.st_size}|{stat.st_mtime_ns}|{when}|{px}".encode()).hexdigest()[:32]
    out = cache_dir / key[:2] / f"{key}.jpg"
    if out.is_file():
        return out
    try:
        picture = _video_frame(real, when) if modality == "video" else _image(real)
    except Exception:  # noqa: BLE001 - a file that will not decode still gets a tile, not a 500
        return icon_for(modality)
    if picture is None:
        return icon_for(modality)
    picture.thumbnail((px, px), Image.Resampling.BICUBIC)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{id(picture)}")  # concurrent requests: last rename wins
    picture.convert("RGB").save(tmp, "JPEG", quality=82)
    os.replace(tmp, out)
    if random.random() < PRUNE_CHANCE:
        prune(cache_dir)
    return out


def prune(cache_dir: Path, keep: int | None = None) -> int:
    """Delete the least recently written tiles beyond ``keep`` (default MAX_TILES): tiles of removed
    or changed files are never asked for again. Returns how many went."""
    keep = MAX_TILES if keep is None else keep
    tiles = []
    for path in cache_dir.glob("*/*.jpg"):
        with contextlib.suppress(OSError):
            tiles.append((path.stat().st_mtime, path))
    tiles.sort(reverse=True)
    gone = 0
    for _, path in tiles[keep:]:
        with contextlib.suppress(OSError):
            path.unlink()
            gone += 1
    return gone


def _image(path: Path) -> Image.Image:
    with Image.open(path) as img:
        img.draft("RGB", (640, 640))  # JPEG: decode at reduced size, much faster for photos
        return ImageOps.exif_transpose(img).convert("RGB")


def _video_frame(path: Path, at: float) -> Image.Image | None:
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            return None
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if at > 0 and stream.time_base:
            container.seek(int(at / stream.time_base), stream=stream, backward=True, any_frame=False)
        last = None
        for count, frame in enumerate(container.decode(stream)):
            last = frame
            if frame.time is None or frame.time >= at - 1e-3 or count >= MAX_FRAMES:
                break
        return last.to_image() if last is not None else None
