"""Documents through the whole engine: pages, OCR'd scans and screenshots found by keyword with
their page or region, metadata filters (SQLite and PostgreSQL), broken files failing alone, the
``extra_segments`` hook, and (slow) the real ``lite`` model ranking the right page first."""

from __future__ import annotations

from collections.abc import Iterable
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import mmsearch
from mmsearch import hookimpl
from mmsearch.cli import cli
from mmsearch.testing.documents import document_library, write_docx, write_pdf
from mmsearch.types import TEXT, Evidence, Hit, Locator, Segment, Source

from mmsearch_ocr.tesseract import tesseract_ready

needs_tesseract = pytest.mark.skipif(not tesseract_ready("eng"), reason="Tesseract data missing: apt-get install tesseract-ocr")


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lib = document_library(tmp_path_factory.mktemp("docs") / "library")
    (lib / "broken.pdf").write_bytes(b"%PDF-1.4 this is no PDF")
    write_pdf(lib / "locked.pdf", ["secret"], password="pw")
    (lib / "broken.docx").write_bytes(b"not a zip at all")
    return lib


def best(engine: mmsearch.Engine, query: str) -> mmsearch.Hit:
    hits = engine.search(query, k=3, min_score=0)
    assert hits, query
    return hits[0]


@needs_tesseract
def test_pages_scans_and_screenshots_are_found_by_keyword_with_metadata_filters(docs: Path, open_engine, db_url: str | None) -> None:  # type: ignore[no-untyped-def]
    engine = open_engine(db=db_url)
    summary = engine.index([docs])
    reasons = {f.path: f.error for f in summary.failures}
    assert set(reasons) == {"broken.pdf", "locked.pdf", "broken.docx"}  # each fails alone, with a reason
    assert "password" in (reasons["locked.pdf"] or "") and "not a readable PDF" in (reasons["broken.pdf"] or "")
    assert summary.added == 7

    hit = best(engine, "marathon")  # only in the scanned letter's page 2, which has no text layer
    assert hit.path == "letters-scan.pdf" and hit.best is not None and hit.best.locator.page == 2
    assert hit.link().endswith("letters-scan.pdf#page=2") and hit.best.locator.box is not None
    shot = best(engine, "firewall")  # only visible in the screenshot's pixels
    assert shot.path == "settings-screenshot.png" and shot.modality == "image" and shot.best.locator.box  # type: ignore[union-attr]
    assert best(engine, "locomotive").path == "museum.html" and best(engine, "tomatoes").path == "garden.docx"

    names = lambda q: sorted({h.path for h in engine.search(q, k=20, min_score=0)})  # noqa: E731
    assert names('filter title:"user manual"') == ["manual.pdf"]
    assert names("keeper author:NORTH") == ["lighthouse.epub"]
    assert names("lamp author:nobody") == []
    assert "manual.pdf" in names("door after:2019-03 before:2019-04")  # the PDF's creation date, not its mtime
    assert "manual.pdf" not in names("door after:2020")


def test_cli_names_the_page_and_links_to_it(docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_match_cut_off: None) -> None:
    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")
    monkeypatch.setenv("MMSEARCH_OCR", "never")  # the page text layer is enough here
    run = lambda *a: CliRunner().invoke(cli, ["--index", str(tmp_path / "idx"), "--embedder", "hash", *a])  # noqa: E731
    assert run("index", str(docs / "manual.pdf")).exit_code == 0
    out = run("search", "limescale", "-k", "1").output
    assert "manual.pdf#page=3 p. 3 " in out and '"Descaling.' in out


class CaptionPlugin:
    """A third-party plugin adding a text segment to every image another plugin reads."""

    @hookimpl
    def extra_segments(self, source: Source, modality: str, segment: Segment) -> Iterable[Segment] | None:
        if modality != "image":
            return None
        if source.path.stem == "bad":
            raise RuntimeError("caption service down")
        return [Segment(kind=TEXT, payload="zebracaption", text=f"zebracaption {source.path.stem}", locator=Locator(box=(0, 0, 1, 0.5)))]


def test_hook_extra_segments(tmp_path: Path, open_engine, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from mmsearch.testing import fake_plugin
    from PIL import Image

    monkeypatch.setenv("MMSEARCH_OCR", "never")
    lib = tmp_path / "lib"
    lib.mkdir()
    Image.new("RGB", (32, 32), "red").save(lib / "red.png")
    Image.new("RGB", (32, 32), "blue").save(lib / "bad.png")
    write_docx(lib / "note.docx", ["Note", "nothing about captions"])
    engine = open_engine(plugins=[fake_plugin(), CaptionPlugin()])
    summary = engine.index([lib])
    assert [(f.path, f.error) for f in summary.failures] == [("bad.png", "extra segments of plugin 'CaptionPlugin' failed: RuntimeError: caption service down")]
    hits = engine.search("zebracaption", k=5, min_score=0)
    assert hits[0].path == "red.png" and hits[0].legs.get('"zebracaption"@keyword')  # the added text is searchable
    assert dict(engine.status().media) == {"image": 1, "document": 1}  # added to the image's own media, not a new one
    assert hits[0].modality == "image" and hits[0].best.locator.box == (0, 0, 1, 0.5)  # type: ignore[union-attr]


@pytest.mark.slow
@needs_tesseract
def test_lite_finds_the_page_of_a_paraphrase_the_scan_and_the_screenshot(docs: Path, tmp_path: Path) -> None:
    with mmsearch.Engine.open(tmp_path / "idx", embedders=["lite"]) as engine:
        engine.index([docs])
        cases = {
            "how do I let trapped air out of a cold heater": ("manual.pdf", 2),
            "what does the E2 error mean": ("manual.pdf", 6),
            "stop kids from changing the settings": ("manual.pdf", 7),
            "bill for fixing the boiler": ("letters-scan.pdf", 1),
            "when is my visit to the dentist": ("letters-scan.pdf", 3),
            "firewall": ("settings-screenshot.png", None),
            "ferry to the island": ("ferry.odt", None),
            "steam locomotives museum": ("museum.html", None),
        }
        for query, (path, page) in cases.items():
            hit = engine.search(query, k=3)[0]
            assert (hit.path, hit.best.locator.page if hit.best else None) == (path, page), query


def test_title_author_filters_and_ocr_boxes_survive_the_server_wire() -> None:
    """The CLI hands a parsed query to a running server and rebuilds its hits: nothing of the
    document filters or the OCR region may be lost on the way."""
    from mmsearch.search.query import Query
    from mmsearch.server.api_search import hit_out
    from mmsearch.server.wire import hit_from_wire, query_from_wire, query_to_wire

    query = Query.parse('boiler title:"user manual" author:acme after:2019')
    data, files = query_to_wire(query)
    assert query_from_wire(json.loads(json.dumps(data)), files) == query
    evidence = Evidence(7, TEXT, Locator(page=3, char_start=0, char_end=9, box=(0.1, 0.2, 0.5, 0.3)), "Firewall", "leg", 0.9, 0.4)
    hit = Hit(1, "scan.pdf", "/lib/scan.pdf", "pdf", 0.9, (evidence,), {"leg": 0.9})
    wire = json.loads(hit_out(hit, {}, explain=False).model_dump_json())
    assert wire["link"] == "/lib/scan.pdf#page=3"
    assert hit_from_wire(wire).best == evidence


@needs_tesseract
def test_a_multipage_tiff_scan_is_searched_page_by_page(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    from mmsearch.testing.documents import SCANNED_PAGES, page_image

    lib = tmp_path / "faxes"
    lib.mkdir()
    pages = [page_image(lines).convert("L") for lines in SCANNED_PAGES]
    pages[0].save(lib / "letters.tiff", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    engine = open_engine()
    summary = engine.index([lib])
    assert summary.added == 1 and not summary.failures
    for word, page in (("boiler", 1), ("marathon", 2), ("dentist", 3)):  # each word is on one page only
        hit = best(engine, word)
        assert hit.path == "letters.tiff" and hit.best is not None and hit.best.locator.page == page, (word, hit)
