"""``python -m mmsearch_pdf.bench [PDF…]``: PDF text extraction speed and quality, PDFium (what
the plugin uses) against pypdf and pdfminer.six when installed (``pip install pypdf pdfminer.six``).

Quality: on a generated PDF whose text is known, the share of its words each library returns; on
the given real PDFs, pages/s, the characters each returns and the words left cut in two by a
line-break hyphen (lost to keyword search). Without arguments, Debian's documentation PDFs are used if present.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mmsearch.testing.documents import write_pdf

from .reader import PdfReader

REAL = [Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf"), Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf")]
TEXT = ("Hyphenation test: the characteristically interdisciplinary conversation about internationalisation "
        "continued uninterrupted; representatives reconsidered counterproductive recommendations. ") * 12


def pdfium_pages(path: Path) -> list[str]:
    with PdfReader(path) as reader:
        return [reader.page(n, 0, 72).text for n in range(1, reader.info().pages + 1)]


def pypdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader as Reader

    return [page.extract_text() or "" for page in Reader(str(path)).pages]


def pdfminer_pages(path: Path) -> list[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    return ["".join(e.get_text() for e in page if isinstance(e, LTTextContainer)) for page in extract_pages(str(path))]


def available() -> dict[str, Callable[[Path], list[str]]]:
    found: dict[str, Callable[[Path], list[str]]] = {"pdfium": pdfium_pages}
    for name, module, fn in (("pypdf", "pypdf", pypdf_pages), ("pdfminer.six", "pdfminer", pdfminer_pages)):
        try:
            __import__(module)
            found[name] = fn
        except ImportError:
            print(f"({name} not installed: skipped)")
    return found


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdfs", nargs="*", type=Path)
    args = parser.parse_args()
    libraries = available()
    with tempfile.TemporaryDirectory() as tmp:
        known = write_pdf(Path(tmp) / "known.pdf", [TEXT, TEXT])
        truth = words(TEXT) * 2
        for name, read in libraries.items():
            got = words(" ".join(read(known)))
            bag = {w: got.count(w) for w in set(got)}
            hit = sum(1 for w in truth if bag.get(w, 0) > 0 and not bag.__setitem__(w, bag[w] - 1))
            print(f"{name:13s} known text: {hit / len(truth):.1%} of words whole")
    for path in args.pdfs or [p for p in REAL if p.is_file()]:
        for name, read in libraries.items():
            started = time.perf_counter()
            pages = read(path)
            seconds = time.perf_counter() - started
            # A word cut by a line-break hyphen ("man-\nagement") is lost to keyword search.
            split = sum(len(re.findall(r"[a-z]-\n[a-z]", p)) for p in pages)
            print(f"{name:13s} {path.name}: {len(pages)} pages, {len(pages) / seconds:7.1f} pages/s, "
                  f"{sum(len(p) for p in pages)} chars, {split} words left split by a line-break hyphen")


if __name__ == "__main__":
    main()
