"""The ``document`` modality: paragraphs of office documents, web pages and e-books, chunked by
the shared chunker with character ranges into the extracted text and the section heading."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from typing import Any

from mmsearch.chunking import chunk_text
from mmsearch.modality import Modality
from mmsearch.types import TEXT, Locator, Segment, Source

from .formats import READERS


#: import name -> the PyPI distribution that provides it
_PYPI = {"docx": "python-docx", "odf": "odfpy", "bs4": "beautifulsoup4", "lxml": "lxml"}


#: Default for the setting ``document.max_bytes``: a bigger file is skipped with that reason. The
#: text inside is bounded apart (formats.MAX_MARKUP): this bounds an HTML file's parse, and a docx
#: whose pictures weigh hundreds of MB still passes.
MAX_BYTES = 256 * 1024 * 1024


class DocumentModality(Modality):
    name = "document"
    kinds = frozenset({TEXT})
    extensions = frozenset(READERS)
    max_bytes = MAX_BYTES

    def __init__(self, chunk_chars: int = 1000, overlap: int = 200) -> None:
        self.chunk_chars = chunk_chars
        self.overlap = overlap

    def extract(self, source: Source) -> Iterator[Segment]:
        try:
            document = READERS[source.path.suffix.lower()](source.path)
        except ImportError as exc:  # the documents extra is optional: say which install reads this file
            raise ValueError(f"reading {source.path.suffix} files needs {_PYPI.get(exc.name or '', exc.name or str(exc))} "
                             "(pip install 'mmsearch[documents]')") from None
        except KeyError as exc:  # a zip without the document's parts (python-docx, odfpy name the missing member)
            what = source.path.suffix.lstrip(".").upper()
            member = re.search(r"named '([^']+)'", str(exc.args[0]) if exc.args else "")
            missing = f"'{member.group(1)}'" if member else "the parts a document needs"
            raise ValueError(f"not a readable {what} document (a zip archive without {missing}: "
                             "the file is damaged or misnamed)") from None
        # Paragraphs joined by blank lines, so the chunker prefers to cut between them.
        starts, parts, offset = [], [], 0
        for para in document.paragraphs:
            starts.append(offset)
            parts.append(para.text)
            offset += len(para.text) + 2
        text = "\n\n".join(parts)
        if not text.strip():
            raise ValueError("the document has no text")
        doc: dict[str, Any] = {k: v for k, v in (("title", document.title), ("author", document.author),
                                                  ("taken", document.created)) if v}
        for chunk in chunk_text(text, self.chunk_chars, self.overlap):
            index = bisect_right(starts, chunk.start) - 1  # a scan per chunk was quadratic: hours for 300k paragraphs
            section = document.paragraphs[index].section
            meta = {**doc, **({"section": section} if section else {}), "paragraph": index + 1}
            yield Segment(kind=TEXT, payload=chunk.text, text=chunk.text,
                          locator=Locator(char_start=chunk.start, char_end=chunk.end), meta=meta)
            doc = {}
