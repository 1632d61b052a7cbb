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


def test_headings_and_titles_name_the_sections_of_the_paragraphs_under_them(tmp_path: Path) -> None:
    import docx

    from mmsearch_office.formats import read_docx

    document = docx.Document()
    document.add_paragraph("Garden book", style="Title")
    document.add_paragraph("A preface under the title.")
    document.add_heading("Planting", 1)
    document.add_paragraph("Tomatoes go along the south fence.")
    document.add_heading("Pruning", 2)
    document.add_paragraph("Cut the apple tree back in winter.", style="List Bullet")
    document.save(str(tmp_path / "garden.docx"))
    sections = [(p.text, p.section) for p in read_docx(tmp_path / "garden.docx").paragraphs]
    assert sections == [("Garden book", "Garden book"), ("A preface under the title.", "Garden book"),
                        ("Planting", "Planting"), ("Tomatoes go along the south fence.", "Planting"),
                        ("Pruning", "Pruning"), ("Cut the apple tree back in winter.", "Pruning")]


def _docx_with_markup(path: Path, megabytes: int) -> Path:
    """A small file whose document part inflates to ``megabytes`` of WordprocessingML (a zip bomb)."""
    import zipfile

    seed = write_docx(path.with_name("seed.docx"), ["seed"])
    paragraph = "<w:p><w:r><w:t>" + "A" * 1000 + "</w:t></w:r></w:p>"
    with zipfile.ZipFile(seed) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                dst.writestr(info, src.read(info))
        body = paragraph * (megabytes * 1024)
        dst.writestr("word/document.xml", src.read("word/document.xml").decode().replace("<w:body>", "<w:body>" + body, 1))
    return path


def test_a_document_holding_more_markup_than_one_may_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mmsearch_office import formats

    monkeypatch.setattr(formats, "MAX_MARKUP", 1024 * 1024)  # the shipped 64 MB, scaled down to keep the test quick
    path = _docx_with_markup(tmp_path / "bomb.docx", 2)
    assert path.stat().st_size < 100_000
    with pytest.raises(ExtractError, match=r"bomb.docx: Word document holds \d+ MB of markup, over the 1 MB"):
        list(DocumentModality().segments(source_for(path)))
    page = tmp_path / "huge.html"
    page.write_text("<p>" + "word " * 500_000 + "</p>")
    with pytest.raises(ExtractError, match=r"huge.html: 2 MB of HTML is over the 1 MB .* save it as text"):
        list(DocumentModality().segments(source_for(page)))


def test_documents_have_a_default_size_limit_that_a_setting_raises() -> None:
    from mmsearch.modality import over_size_limit
    from mmsearch.settings import Settings

    reason = over_size_limit(Settings(), DocumentModality(), 2 * 1024**3)  # a 2 GB page filled memory to 4.8 GB
    assert reason is not None and "document limit of 256.0 MB" in reason and "document.max_bytes" in reason
    assert over_size_limit(Settings(), DocumentModality(), 10 * 1024**2) is None
