"""Image decoding that survives what real photo libraries hold: rotated phone photos, 50 MP
panoramas, decompression bombs, truncated files and multi-page TIFF scans."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

from PIL import Image, ImageOps

from mmsearch.fingerprint import META_KEY, fingerprint
from mmsearch.imaging import flatten
from mmsearch.modality import Modality
from mmsearch.types import IMAGE, Locator, Segment, Source

try:  # HEIC/HEIF (iPhone photos) when the optional pillow-heif is installed
    from pillow_heif import register_heif_opener

    register_heif_opener()
    _HEIF = frozenset({".heic", ".heif"})
except ImportError:  # pragma: no cover - depends on the optional extra
    _HEIF = frozenset()

try:  # Pillow 11.3+ decodes AVIF itself where its wheel was built with libavif
    from PIL import features as _features

    _AVIF = frozenset({".avif"}) if _features.check("avif") else frozenset()
except Exception:  # noqa: BLE001 - an older Pillow without the check: no AVIF
    _AVIF = frozenset()

#: Embedders look at 224-384 px; decoding more than this wastes time and memory. 448 keeps a
#: short side of at least 336 for 4:3 photos, enough for a 224-336 px centre crop.
PAYLOAD_SIDE = 448
_EXIF_DATETIME_ORIGINAL = 0x9003
_EXIF_IFD = 0x8769
_T = TypeVar("_T")


class ImageModality(Modality):
    name = "image"
    kinds = frozenset({IMAGE})
    extensions = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"}) | _HEIF | _AVIF

    def __init__(self, max_pixels: int = 100_000_000, payload_side: int = PAYLOAD_SIDE, max_pages: int = 2000) -> None:
        self.max_pixels = max_pixels
        self.payload_side = payload_side
        self.max_pages = max_pages
        # Pillow refuses images over twice its own MAX_IMAGE_PIXELS (179 MP) before we can look
        # at them; a user who raised max_image_pixels past that must get what they asked for.
        if Image.MAX_IMAGE_PIXELS is not None and max_pixels > 2 * Image.MAX_IMAGE_PIXELS:
            Image.MAX_IMAGE_PIXELS = max_pixels

    def _too_big(self, pixels: int, size: tuple[int, int] | None = None) -> ValueError:
        what = f"is {size[0]}x{size[1]} ({pixels / 1e6:.0f} MP)" if size else f"has {pixels / 1e6:.0f} MP"
        return ValueError(
            f"image {what}, over the limit of {self.max_pixels / 1e6:.0f} MP; "
            f"raise the setting max_image_pixels (env MMSEARCH_MAX_IMAGE_PIXELS) to index it"
        )

    def extract(self, source: Source) -> Iterator[Segment]:
        pages = self._read(source, self._pages)
        if pages > self.max_pages:
            raise ValueError(f"the TIFF has {pages} pages, over the limit of {self.max_pages} "
                             "(raise MMSEARCH_IMAGE_MAX_PAGES to index it)")
        if pages == 1:
            image, meta = self._read(source, self.load)
            yield Segment(kind=IMAGE, payload=image, meta=meta)
            return
        # A multi-page TIFF is a scanned document or a fax: every page is searchable, as a PDF's are.
        for number in range(1, pages + 1):
            image, meta = self._read(source, lambda s: self.load(s, frame=number - 1))
            yield Segment(kind=IMAGE, payload=image, locator=Locator(page=number),
                          meta={**meta, "pages": pages} if number == 1 else meta)

    def _read(self, source: Source, read: Callable[[Source], _T]) -> _T:
        try:
            return read(source)
        except Image.DecompressionBombError as exc:  # Pillow's own refusal at open, before the size is known
            pixels = re.search(r"\((\d+) pixels\)", str(exc))
            raise self._too_big(int(pixels.group(1)) if pixels else 2 * (Image.MAX_IMAGE_PIXELS or 0)) from exc
        except (OSError, SyntaxError, EOFError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            # Pillow says "cannot identify image file '/x/y.jpg'" or "Truncated File Read": name the cause.
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise ValueError(f"not a readable image ({detail})") from exc

    @staticmethod
    def _pages(source: Source) -> int:
        """Pages of a multi-page TIFF; 1 for anything else (an animated GIF's later frames are
        motion, not more pictures)."""
        with Image.open(source.path) as img:
            return int(getattr(img, "n_frames", 1)) if img.format == "TIFF" else 1

    def load(self, source: Source, frame: int = 0) -> tuple[Image.Image, dict[str, object]]:
        """The image (page ``frame`` of a multi-page file), upright, RGB (transparency on white), at
        most twice ``payload_side`` px, and its size, capture date and fingerprint."""
        with Image.open(source.path) as img:
            if frame:
                img.seek(frame)
            width, height = img.size
            if width * height > self.max_pixels:
                raise self._too_big(width * height, (width, height))
            # JPEG only: decode at 1/2..1/8 scale straight from the DCT, far cheaper than a resize.
            # Ask for the thumbnail's own size: draft keeps both sides at least that large.
            scale = self.payload_side / max(width, height)
            if scale < 1:
                img.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
            taken = _taken_at(img)
            if img.getexif().get(_EXIF_ORIENTATION) in _EXIF_TURNED:  # stored on its side
                width, height = height, width  # the size as shown (and as OCR boxes are measured)
            # No warnings.catch_warnings here: its filter list is process-wide, so while one decode
            # thread had turned DecompressionBombWarning into an error, another thread's
            # Image.open of a large image failed as "not a readable image" instead of "over the
            # limit" (the reason changed from run to run). The size check above is the limit.
            img.load()  # raises on truncated data, which a lazy open would hide
            img = flatten(ImageOps.exif_transpose(img))
            # A drafted JPEG is already within 2x of the target: the embedder's own resize follows,
            # so a second resize here would only cost time. PNGs and friends cannot draft.
            if max(img.size) > 2 * self.payload_side:
                img.thumbnail((self.payload_side, self.payload_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
        meta: dict[str, object] = {"width": width, "height": height}
        if taken:
            meta["taken"] = taken
        picture = fingerprint(img)  # for "the same picture" when searching by example (fingerprint.py)
        if picture:
            meta[META_KEY] = picture
        return img, meta


_EXIF_ORIENTATION = 0x0112
_EXIF_TURNED = frozenset({5, 6, 7, 8})  # orientations that swap width and height


def _taken_at(img: Image.Image) -> str | None:
    try:
        raw = img.getexif().get_ifd(_EXIF_IFD).get(_EXIF_DATETIME_ORIGINAL)
        return datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S").isoformat() if raw else None
    except (ValueError, TypeError, AttributeError, OSError):
        return None
