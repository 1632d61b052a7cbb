"""The pdf modality on real PDFs written by fpdf2: text per page with 1-based page locators,
metadata, page images for pages without text, and broken PDFs failing alone with a reason."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from mmsearch.chunking import chunk_text
from mmsearch.errors import ExtractError
from mmsearch.testing import ModalityContract
from mmsearch.testing.contracts import source_for
from mmsearch.testing.documents import page_image, write_pdf, write_scanned_pdf
from mmsearch.types import IMAGE, TEXT
from mmsearch_pdf.modality import PdfModality
from mmsearch_pdf.reader import PdfReader, parse_pdf_date

LONG = " ".join(f"Sentence {i} talks about topic {i % 7} in some detail." for i in range(40))


class TestPdfContract(ModalityContract):
    @pytest.fixture
    def modality(self) -> PdfModality:
        return PdfModality()

    @pytest.fixture
    def sample_file(self, tmp_path: Path) -> Path:
        return write_pdf(tmp_path / "sample.pdf", ["First page about boats.", "Second page about trains."])

    @pytest.fixture
    def corrupt_file(self, tmp_path: Path) -> Path:
        path = tmp_path / "corrupt.pdf"
        path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage with no xref")
        return path


def test_text_pages_are_chunked_with_page_numbers_and_ranges(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "doc.pdf", ["Cover page about apples and the orchard where they grow. " * 5, LONG],
                    title="Fruit", author="Ann Smith", created=datetime(2021, 5, 4, 10, 0))
    segments = list(PdfModality(chunk_chars=400, overlap=80).segments(source_for(pdf)))
    texts = [s for s in segments if s.kind == TEXT]
    assert {s.locator.page for s in texts} == {1, 2}
    second = [s for s in texts if s.locator.page == 2]
    assert len(second) > 5 and all(len(s.text or "") <= 400 for s in second)  # chunked, never over the window
    assert "Sentence 39" in second[-1].text  # nothing past the window is lost
    # The character range indexes the page's text, as the shared chunker cut it.
    with PdfReader(pdf) as reader:
        page_text = reader.page(2, 0, 72).text
    assert [(s.locator.char_start, s.locator.char_end) for s in second] == [(c.start, c.end) for c in chunk_text(page_text, 400, 80)]
    assert all(page_text[s.locator.char_start : s.locator.char_end] == s.text for s in second)
    meta = segments[0].meta
    assert meta["title"] == "Fruit" and meta["author"] == "Ann Smith" and meta["taken"] == "2021-05-04T10:00:00"
    assert not any(s.kind == IMAGE for s in segments)  # both pages have plenty of text


def test_a_page_without_text_is_embedded_as_an_image(tmp_path: Path) -> None:
    pdf = write_scanned_pdf(tmp_path / "scan.pdf", [page_image(["A scanned letter"])])
    (segment,) = PdfModality(render_dpi=100).segments(source_for(pdf))
    assert segment.kind == IMAGE and segment.locator.page == 1 and segment.meta["page_chars"] == 0
    assert abs(segment.payload.width - 827) <= 1 and abs(segment.payload.height - 1169) <= 1  # A4 at 100 dpi
    assert segment.payload.convert("L").getextrema()[0] < 50  # the drawn text is there


@pytest.mark.parametrize("case", ["encrypted", "truncated", "not-a-pdf", "too-many-pages"])
def test_broken_pdfs_fail_alone_with_a_reason(tmp_path: Path, case: str) -> None:
    path = tmp_path / f"{case}.pdf"
    if case == "encrypted":
        write_pdf(path, ["secret plans"], password="hunter2")
    elif case == "truncated":
        data = write_pdf(tmp_path / "whole.pdf", ["some text"]).read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif case == "not-a-pdf":
        path.write_bytes(b"<html>not a pdf</html>")
    else:
        write_pdf(path, ["page"] * 6)
    with pytest.raises(ExtractError) as info:
        list(PdfModality(max_pages=5).segments(source_for(path)))
    message = str(info.value)
    assert path.name in message
    expected = {"encrypted": "password", "truncated": "not a readable PDF", "not-a-pdf": "not a readable PDF",
                "too-many-pages": "6 pages, over the limit of 5"}[case]
    assert expected in message


def test_pdf_dates_become_iso() -> None:
    assert parse_pdf_date("D:20240131094500+01'00'") == "2024-01-31T09:45:00"
    assert parse_pdf_date("D:2019") == "2019-01-01T00:00:00"
    assert parse_pdf_date("garbage") is None and parse_pdf_date(None) is None


def test_a_poster_sized_page_keeps_its_text_and_a_bounded_image(tmp_path: Path) -> None:
    """A 5 m x 5 m page at 200 dpi is 1.5 gigapixels: PDFium 'failed to fill bitmap rectangle' and
    the whole file failed, its text with it, after 45 s (a probe's find)."""
    from fpdf import FPDF

    from mmsearch_pdf.reader import MAX_RENDER_SIDE

    pdf = FPDF()
    pdf.add_page(format=(5000, 5000))
    pdf.set_font("helvetica", size=200)
    pdf.cell(0, 10, "poster about walrus")
    path = tmp_path / "poster.pdf"
    pdf.output(str(path))
    segments = list(PdfModality().segments(source_for(path)))
    assert [s.text for s in segments if s.kind == TEXT] == ["poster about walrus"]
    images = [s.payload for s in segments if s.kind == IMAGE]
    assert images and max(images[0].size) <= MAX_RENDER_SIDE
