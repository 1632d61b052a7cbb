"""OCR with Tesseract: words drawn in DejaVu Sans are read back with their region, the cheap
layout test keeps photos without text away from recognition, and the ``ocr`` setting is obeyed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmsearch.errors import ConfigError
from mmsearch.settings import Settings
from mmsearch.testing.contracts import source_for
from mmsearch.testing.documents import SCANNED_PAGES, page_image, screenshot
from mmsearch.types import IMAGE, Locator, Segment

import mmsearch_ocr
from mmsearch_ocr.tesseract import tesseract_ready

pytestmark = pytest.mark.skipif(not tesseract_ready("eng"), reason="Tesseract data missing: apt-get install tesseract-ocr")


def ocr(path: Path, modality: str = "image", mode: str = "auto", locator: Locator = Locator(), **meta: object) -> list[Segment]:
    image = Image.open(path).convert("RGB")
    image.thumbnail((448, 448))  # what the image modality hands on: too small to read
    segment = Segment(kind=IMAGE, payload=image, locator=locator, meta=meta)
    return list(mmsearch_ocr.extra_segments(source_for(path), modality, segment, Settings(overrides={"ocr": mode})) or [])


def words(text: str) -> list[str]:
    return [w.strip(",.:;").lower() for w in text.split()]


def test_scanned_page_words_are_read_with_their_region(tmp_path: Path) -> None:
    lines = SCANNED_PAGES[0]
    page = page_image(lines)
    page.save(tmp_path / "page.png")
    segments = ocr(tmp_path / "page.png")
    text = " ".join(s.text or "" for s in segments)
    expected = [w for line in lines for w in words(line)]
    found = words(text)
    accuracy = sum(w in found for w in expected) / len(expected)
    assert accuracy >= 0.95, (accuracy, text)
    left, top, right, bottom = segments[0].locator.box  # type: ignore[misc]
    # The text was drawn from (140, 180) px on a 1654 x 2339 page, three lines of 42 px type.
    assert left == pytest.approx(140 / 1654, abs=0.01) and top == pytest.approx(180 / 2339, abs=0.01)
    assert 0.1 < right < 0.9 and bottom < 0.2
    assert segments[0].meta["source"] == "ocr" and segments[0].meta["confidence"] > 80


def test_a_screenshot_is_read_from_the_file_not_the_downsized_payload(tmp_path: Path) -> None:
    screenshot().save(tmp_path / "shot.png")
    text = " ".join(s.text or "" for s in ocr(tmp_path / "shot.png"))
    assert {"firewall", "wireless", "proxy"} <= set(words(text))


def test_auto_skips_photos_without_text_and_never_means_never(tmp_path: Path) -> None:
    from skimage import data

    Image.fromarray(data.astronaut()).save(tmp_path / "astronaut.jpg")
    Image.fromarray(data.coffee()).save(tmp_path / "coffee.jpg")
    screenshot().save(tmp_path / "shot.png")
    assert ocr(tmp_path / "astronaut.jpg") == [] and ocr(tmp_path / "coffee.jpg") == []
    assert ocr(tmp_path / "shot.png", mode="never") == []
    assert ocr(tmp_path / "shot.png", modality="video") == []  # not a modality OCR reads by default


def test_pdf_page_images_are_read_when_the_page_has_no_text_layer(tmp_path: Path) -> None:
    page_image(SCANNED_PAGES[1]).save(tmp_path / "scan.png")
    scanned = ocr(tmp_path / "scan.png", modality="pdf", locator=Locator(page=7), page_chars=0)
    assert scanned and all(s.locator.page == 7 for s in scanned) and "marathon" in (scanned[0].text or "")
    # A page that has a text layer (a figure page with a caption): OCR would repeat it, so auto skips.
    assert ocr(tmp_path / "scan.png", modality="pdf", locator=Locator(page=7), page_chars=150) == []
    assert ocr(tmp_path / "scan.png", modality="pdf", mode="always", locator=Locator(page=7), page_chars=150)


def test_an_unknown_mode_is_refused_naming_the_setting() -> None:
    segment = Segment(kind=IMAGE, payload=Image.new("RGB", (8, 8)))
    with pytest.raises(ConfigError, match="MMSEARCH_OCR"):
        mmsearch_ocr.extra_segments(source_for(Path(__file__)), "image", segment, Settings(overrides={"ocr": "sometimes"}))


def test_words_text_and_boxes_line_up() -> None:
    from mmsearch_ocr.reader import to_segments
    from mmsearch_ocr.tesseract import Word

    ws = [Word("Exit", 95, (10, 10, 50, 30), True, True), Word("only", 95, (60, 10, 100, 30), False, False),
          Word("Gate", 90, (10, 100, 60, 130), True, True)]
    (segment,) = to_segments(ws, (200, 200), page=None)
    assert segment.text == "Exit only\n\nGate"
    np.testing.assert_allclose(segment.locator.box, (0.05, 0.05, 0.5, 0.65))  # type: ignore[arg-type]


def test_the_mode_reads_from_an_ocr_table_and_the_short_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mmsearch_ocr.config import OcrConfig

    monkeypatch.delenv("MMSEARCH_OCR", raising=False)
    (tmp_path / "mmsearch.toml").write_text('[ocr]\nmode = "never"\nlang = "eng+deu"\n')
    config = OcrConfig.from_settings(Settings.load(tmp_path))
    assert config.mode == "never" and config.lang == "eng+deu"
    monkeypatch.setenv("MMSEARCH_OCR", "always")
    assert OcrConfig.from_settings(Settings.load(tmp_path)).mode == "always"


def test_leptonicas_internal_errors_do_not_reach_the_terminal() -> None:
    """Indexing Tux Paint's roundabout sign printed 'Error in boxClipToRectangle: box outside
    rectangle' and 'Error in pixScanForForeground: invalid box' (Leptonica, from Tesseract's layout
    analysis, on the C stderr) through the progress bar; Tesseract then read the picture normally."""
    import subprocess
    import sys

    sign = Path("/usr/share/tuxpaint/stamps/town/roadsigns/roundabout.png")
    if not sign.is_file():
        pytest.skip("apt-get install tuxpaint-stamps-default")
    plugins = Path(__file__).resolve().parents[1] / "plugins"
    script = ("import sys; sys.path.insert(0, sys.argv[2]); from PIL import Image; from mmsearch.imaging import flatten; "
              "from mmsearch_ocr.tesseract import has_text_lines; print(has_text_lines(flatten(Image.open(sys.argv[1])), 'eng'))")
    run = subprocess.run([sys.executable, "-c", script, str(sign), str(plugins)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() in {"True", "False"}, run.stderr
    assert "Error in" not in run.stderr, run.stderr
