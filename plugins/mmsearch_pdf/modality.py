"""The ``pdf`` modality: one text segment per chunk of each page, plus a page image for pages with
little text (scans, full-page figures) so image queries and OCR reach them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mmsearch.chunking import chunk_text
from mmsearch.modality import Modality
from mmsearch.types import IMAGE, TEXT, Locator, Segment, Source


class PdfModality(Modality):
    name = "pdf"
    kinds = frozenset({TEXT, IMAGE})
    extensions = frozenset({".pdf"})

    def __init__(self, chunk_chars: int = 1000, overlap: int = 200, max_pages: int = 2000,
                 image_below_chars: int = 200, render_dpi: int = 200) -> None:
        self.chunk_chars = chunk_chars
        self.overlap = overlap
        self.max_pages = max_pages
        self.image_below_chars = image_below_chars
        self.render_dpi = render_dpi

    def extract(self, source: Source) -> Iterator[Segment]:
        try:  # imported here so that mmsearch runs (without PDFs) when the documents extra is absent
            from .reader import PdfReader, pages
        except ImportError as exc:
            raise ValueError(f"reading PDFs needs pypdfium2 ({exc}); pip install 'mmsearch[documents]'") from None
        with PdfReader(source.path) as reader:
            info = reader.info()
            if info.pages == 0:
                raise ValueError("the PDF has no pages")
            if info.pages > self.max_pages:
                raise ValueError(f"the PDF has {info.pages} pages, over the limit of {self.max_pages} "
                                 "(raise MMSEARCH_PDF_MAX_PAGES to index it)")
            # Document metadata rides on the first segment; the indexer copies it to the media row.
            doc: dict[str, Any] = {"pages": info.pages}
            doc.update({k: v for k, v in (("title", info.title), ("author", info.author), ("taken", info.created)) if v})
            for page in pages(reader, info.pages, self.image_below_chars, self.render_dpi):
                if page.image is not None:
                    meta = {"page_chars": len(page.text.strip()), **doc}
                    yield Segment(kind=IMAGE, payload=page.image, locator=Locator(page=page.number), meta=meta)
                    doc = {}
                for chunk in chunk_text(page.text, self.chunk_chars, self.overlap):
                    locator = Locator(page=page.number, char_start=chunk.start, char_end=chunk.end)
                    yield Segment(kind=TEXT, payload=chunk.text, text=chunk.text, locator=locator, meta=doc)
                    doc = {}
