"""The document modality on real .docx, .odt, .html and .epub files: paragraphs in order, section
headings, metadata, locators that index the extracted text, and broken files rejected with a reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from mmsearch.errors import ExtractError
from mmsearch.testing import ModalityContract
from mmsearch.testing.contracts import source_for
from mmsearch.testing.documents import write_docx, write_epub, write_html, write_odt
from mmsearch_office.modality import DocumentModality

PARAS = ["Garden plans", "Plant the tomatoes along the sunny south fence in May.", "Prune the old apple tree in winter."]
WRITERS: dict[str, Callable[[Path], Path]] = {
    "docx": lambda p: write_docx(p, PARAS, title="Garden", author="Bo Lind"),
    "odt": lambda p: write_odt(p, PARAS, title="Garden"),
    "html": lambda p: write_html(p, PARAS[1:], title="Garden"),
    "epub": lambda p: write_epub(p, [("Garden plans", PARAS[1]), ("Winter", PARAS[2])], title="Garden", author="Bo Lind"),
}


@pytest.fixture(params=sorted(WRITERS))
def fmt(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestDocumentContract(ModalityContract):
    @pytest.fixture
    def modality(self) -> DocumentModality:
        return DocumentModality()

    @pytest.fixture
    def sample_file(self, tmp_path: Path, fmt: str) -> Path:
        return WRITERS[fmt](tmp_path / f"sample.{fmt}")

    @pytest.fixture
    def corrupt_file(self, tmp_path: Path, fmt: str) -> Path:
        path = tmp_path / f"corrupt.{fmt}"
        path.write_bytes(b"PK\x03\x04 truncated zip" if fmt != "html" else b"")
        return path


def test_paragraphs_come_out_in_order_with_locators_and_metadata(tmp_path: Path, fmt: str) -> None:
    path = WRITERS[fmt](tmp_path / f"garden.{fmt}")
    segments = list(DocumentModality().segments(source_for(path)))
    text = "\n\n".join(s.text or "" for s in segments)
    assert text.index("tomatoes") < text.index("apple tree")
    assert segments[0].meta["title"] == "Garden"
    if fmt in ("docx", "epub"):
        assert segments[0].meta["author"] == "Bo Lind"
    assert segments[0].locator.char_start == 0 and segments[0].locator.char_end == len(segments[0].text or "")


def test_html_drops_scripts_styles_and_navigation(tmp_path: Path) -> None:
    path = write_html(tmp_path / "page.html", ["Tickets cost <b>ten</b> euros."])
    (segment,) = DocumentModality().segments(source_for(path))
    assert segment.text == "Tickets cost ten euros."  # inline markup does not split words
    assert "scriptword" not in segment.text and "color" not in segment.text and "About" not in segment.text


def test_long_documents_are_chunked_with_sections(tmp_path: Path) -> None:
    paras = ["Introduction"] + [f"Paragraph {i} explains one more detail of the method." for i in range(60)]
    path = write_docx(tmp_path / "long.docx", paras)
    segments = list(DocumentModality(chunk_chars=300, overlap=60).segments(source_for(path)))
    assert len(segments) > 8 and all(len(s.text or "") <= 300 for s in segments)
    assert all(s.meta["section"] == "Introduction" for s in segments)
    assert "Paragraph 59" in (segments[-1].text or "")


def test_an_empty_document_fails_with_a_reason(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "empty.docx", [])
    with pytest.raises(ExtractError, match="empty.docx: the document has no text"):
        list(DocumentModality().segments(source_for(path)))


@pytest.mark.parametrize(("name", "member"), [("bad.docx", "[Content_Types].xml"), ("bad.odt", "META-INF/manifest.xml")])
def test_a_zip_that_is_not_a_document_fails_saying_what_is_missing(tmp_path: Path, name: str, member: str) -> None:
    import zipfile

    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("garbage.bin", b"not a document")
    kind = name.rsplit(".", 1)[1].upper()
    with pytest.raises(ExtractError, match=f"{name}: not a readable {kind} document \\(a zip archive without '{re.escape(member)}'"):
        list(DocumentModality().segments(source_for(path)))
