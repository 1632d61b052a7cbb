"""Built-in OCR: text in pictures (screenshots, signs, slides, scanned PDF pages) becomes ``text``
segments of the same media, with the region each covers in ``Locator.box``.

It reads no file of its own: through the ``extra_segments`` hook it looks at the ``image``
segments other modalities yield (the ``image`` modality's photos, the ``pdf`` modality's page
images) without importing them. Settings (``mmsearch.toml`` or ``MMSEARCH_OCR_*``):

* ``ocr`` (or ``mode`` under ``[ocr]``) — ``"auto"`` (default: OCR where a cheap layout test finds text lines, and every PDF
  page image, which the pdf modality renders only for pages without a usable text layer),
  ``"always"``, or ``"never"``;
* ``ocr.modalities`` (``"image,pdf"``) — whose image segments to read (video frames are left out:
  thousands per film);
* ``ocr.lang`` (``"eng"``) — Tesseract languages, e.g. ``"eng+deu"``;
* ``ocr.min_confidence`` (50) — words Tesseract is less sure of (0-100) are dropped as noise.

Tesseract's data comes from Debian's ``tesseract-ocr`` (or ``TESSDATA_PREFIX``).
"""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from mmsearch.settings import Settings
from mmsearch.types import Segment, Source

from .config import OcrConfig
from .reader import ocr_segments

hookimpl = pluggy.HookimplMarker("mmsearch")


@hookimpl(trylast=True)
def extra_segments(source: Source, modality: str, segment: Segment, settings: Settings) -> Iterable[Segment] | None:
    config = OcrConfig.from_settings(settings)
    if config.mode == "never" or modality not in config.modalities or segment.kind != "image":
        return None
    return ocr_segments(source, segment, config)
