"""From an image segment to OCR text segments: pick the picture, test for text, recognise, chunk."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageOps

from mmsearch.chunking import chunk_text
from mmsearch.types import TEXT, Locator, Segment, Source
from mmsearch.imaging import flatten

from .config import OcrConfig
from .tesseract import Word, has_text_lines, read_words, tesseract_ready

#: OCR reads the file itself when it is an image larger than the payload (the image modality
#: downsizes photos for embedding, which leaves screenshot text unreadable) up to this size.
MAX_OCR_PIXELS = 40_000_000
#: OCR text is chunked finer than documents: one sign or slide region per segment.
CHUNK_CHARS = 500
#: The size the cheap text-presence test looks at.
TEST_SIDE = 800
#: A page image whose page has fewer text-layer characters than this is taken for a scan.
SCANNED_PAGE_CHARS = 20


def ocr_segments(source: Source, segment: Segment, config: OcrConfig) -> list[Segment]:
    if config.mode == "auto" and not tesseract_ready(config.lang):
        return []  # asked for nothing explicitly: index without OCR (warned once) rather than fail every file
    if config.mode == "auto":
        page_chars = segment.meta.get("page_chars")
        if isinstance(page_chars, int):
            # A page image (from a PDF page with little text): the text layer is the cheap test.
            # Below SCANNED_PAGE_CHARS it has none worth the name (a scan); above, OCR would
            # mostly repeat the text layer.
            if page_chars >= SCANNED_PAGE_CHARS:
                return []
        else:
            # Layout analysis on a small decode (JPEG draft: a fraction of a full decode), so a
            # 12 MP photo without text costs ~0.2 s here, not a full decode and a full OCR (~0.9 s).
            preview = picture(source, segment.payload, TEST_SIDE, segment.locator.page)
            if preview is None or not has_text_lines(preview, config.lang, TEST_SIDE):
                return []
    image = picture(source, segment.payload, page=segment.locator.page)
    if image is None:
        return []
    words = [w for w in read_words(image, config.lang) if w.confidence >= config.min_confidence]
    return to_segments(words, image.size, segment.locator.page)


def picture(source: Source, payload: object, side: int | None = None, page: int | None = None) -> Image.Image | None:
    """The sharpest picture at hand, at most ``side`` px when given: the file itself (its ``page``
    when it holds several, as a multi-page TIFF does) when it is a larger image than the payload,
    else the payload."""
    best = payload if isinstance(payload, Image.Image) else None
    try:
        # The size is checked against MAX_OCR_PIXELS before any decode; no warnings.catch_warnings:
        # its filters are process-wide, and turning DecompressionBombWarning into an error here
        # made another thread's Image.open of a large image fail with a different reason.
        with Image.open(source.path) as img:
            if page is not None and page > 1:
                img.seek(page - 1)  # EOFError when the file has no such page: the payload will do
            if img.width * img.height <= MAX_OCR_PIXELS and (best is None or img.width > best.width):
                if side is not None:
                    # JPEG: decode at 1/2-1/8 scale straight from the DCT. Draft keeps both sides
                    # at least the size asked, so ask for the thumbnail's own shape: a square
                    # (side, side) would decode a 4:3 12 MP photo at 2000 px, four times the pixels.
                    scale = side / max(img.size)
                    img.draft("RGB", (max(1, int(img.width * scale)), max(1, int(img.height * scale))))
                best = flatten(ImageOps.exif_transpose(img))  # 16-bit scans scaled, not clipped white
    except Exception:  # noqa: BLE001 - not an image file (a PDF) or unreadable: the payload will do
        pass
    if best is not None and side is not None and max(best.size) > side:
        best = best.copy()
        best.thumbnail((side, side))
    return best


def to_segments(words: Sequence[Word], size: tuple[int, int], page: int | None) -> list[Segment]:
    """Words -> text (lines and paragraphs kept) -> shared-chunker chunks, each with the box around its words."""
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    length = 0
    for i, word in enumerate(words):
        sep = "" if i == 0 else ("\n\n" if word.new_para else "\n" if word.new_line else " ")
        length += len(sep)
        offsets.append((length, length + len(word.text)))
        parts.append(sep + word.text)
        length += len(word.text)
    text = "".join(parts)
    width, height = size
    out = []
    for chunk in chunk_text(text, CHUNK_CHARS, overlap=CHUNK_CHARS // 5):
        inside = [w.box for w, (a, b) in zip(words, offsets) if a >= chunk.start and b <= chunk.end]
        if not inside:
            continue
        box = (min(b[0] for b in inside) / width, min(b[1] for b in inside) / height,
               max(b[2] for b in inside) / width, max(b[3] for b in inside) / height)
        conf = sum(w.confidence for w, (a, b) in zip(words, offsets) if a >= chunk.start and b <= chunk.end) / len(inside)
        locator = Locator(page=page, char_start=chunk.start, char_end=chunk.end, box=tuple(round(v, 4) for v in box))  # type: ignore[arg-type]
        out.append(Segment(kind=TEXT, payload=chunk.text, text=chunk.text, locator=locator,
                           meta={"source": "ocr", "confidence": round(conf, 1)}))
    return out
