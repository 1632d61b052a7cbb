"""Built-in ``document`` modality: .docx, .odt, .html and .epub as text chunks.

Each format is read by a well-kept library (python-docx, odfpy, BeautifulSoup over lxml; EPUB is a
zip of XHTML read with the same HTML reader), turned into paragraphs under section headings and
cut by the shared chunker (``text.chunk_chars`` / ``text.chunk_overlap``). Locators are character
ranges in the document's extracted text; each segment's ``meta["section"]`` names its heading.
Title and author (core properties, Dublin Core, ``<title>``/``<meta name="author">``) feed the
``title:``/``author:`` filters, a creation date the ``after:``/``before:`` filters.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from mmsearch.modality import Modality
from mmsearch.settings import Settings

from .modality import DocumentModality

hookimpl = pluggy.HookimplMarker("mmsearch")


@hookimpl(trylast=True)
def register_modalities(register: Callable[[Modality], None], settings: Settings) -> None:
    register(DocumentModality(settings.get_int("text.chunk_chars", 1000), settings.get_int("text.chunk_overlap", 200)))
