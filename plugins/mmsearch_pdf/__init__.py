"""Built-in ``pdf`` modality: text per page in chunks, page images where a page has little text.

Registered through the ``mmsearch`` entry-point group like any third-party plugin; it uses only the
public ``mmsearch`` API. Settings (``mmsearch.toml`` or ``MMSEARCH_PDF_*``):

* ``pdf.max_pages`` (2000) — a longer PDF fails with that reason instead of stalling a run;
* ``pdf.image_below_chars`` (200) — a page with fewer text characters (a scan, a full-page figure)
  is also embedded as an image, and OCR plugins see that image;
* ``pdf.render_dpi`` (200) — resolution of those page images, enough for OCR of 10-point text;
* ``text.chunk_chars`` / ``text.chunk_overlap`` — the shared chunker's window, as for text files.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from mmsearch.modality import Modality
from mmsearch.settings import Settings

from .modality import PdfModality

hookimpl = pluggy.HookimplMarker("mmsearch")


@hookimpl(trylast=True)
def register_modalities(register: Callable[[Modality], None], settings: Settings) -> None:
    register(
        PdfModality(
            chunk_chars=settings.get_int("text.chunk_chars", 1000),
            overlap=settings.get_int("text.chunk_overlap", 200),
            max_pages=settings.get_int("pdf.max_pages", 2000),
            image_below_chars=settings.get_int("pdf.image_below_chars", 200),
            render_dpi=settings.get_int("pdf.render_dpi", 200),
        )
    )
