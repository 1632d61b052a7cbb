"""The built-in image and text modalities, through the conformance kit plugin authors use too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmsearch.errors import ExtractError
from mmsearch.fingerprint import is_fingerprint
from mmsearch.testing import ModalityContract
from mmsearch.testing.contracts import source_for
from mmsearch_image.modality import ImageModality
from mmsearch.chunking import chunk_spans
from mmsearch_text.modality import TextModality


def _photo(path: Path, size: tuple[int, int] = (400, 300), exif: Image.Exif | None = None) -> Path:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    pixels[: size[1] // 2, : size[0] // 2] = (255, 0, 0)  # red top-left quadrant marks orientation
    Image.fromarray(pixels).save(path, quality=90, **({"exif": exif} if exif is not None else {}))
    return path


def line_icon(path: Path, shape: str, mode: str = "RGBA") -> Path:
    """Black strokes on a fully transparent canvas, like most line icons and much clip art."""
    from PIL import ImageDraw

    image = Image.new("RGBA", (128, 128), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if shape == "circle":
        draw.ellipse((24, 24, 104, 104), outline=(0, 0, 0, 255), width=10)
    else:
        draw.line((24, 24, 104, 104), fill=(0, 0, 0, 255), width=10)
        draw.line((24, 104, 104, 24), fill=(0, 0, 0, 255), width=10)
    if mode == "P":
        image = image.convert("P")  # one palette entry is the transparent colour
        image.info["transparency"] = image.getpixel((0, 0))
    elif mode != "RGBA":
        image = image.convert(mode)
    image.save(path)
    return path


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparency_is_composited_onto_white_not_dropped(tmp_path: Path, mode: str) -> None:
    """Dropping alpha shows the hidden black under a line icon: every icon a black square."""
    pixels = {}
    for shape in ("circle", "cross"):
        path = line_icon(tmp_path / f"{shape}.png", shape, mode)
        (segment,) = ImageModality().extract(source_for(path))
        assert segment.payload.mode == "RGB"
        pixels[shape] = np.asarray(segment.payload)
        assert tuple(pixels[shape][2, 2]) == (255, 255, 255)  # the transparent corner is white
        assert pixels[shape].min() == 0  # the strokes stay black
    assert (pixels["circle"] != pixels["cross"]).any()


class TestImageModality(ModalityContract):
    @pytest.fixture
    def modality(self) -> ImageModality:
        return ImageModality()

    @pytest.fixture
    def sample_file(self, tmp_path: Path) -> Path:
        return _photo(tmp_path / "photo.jpg")

    @pytest.fixture
    def corrupt_file(self, tmp_path: Path) -> Path:
        good = _photo(tmp_path / "good.jpg").read_bytes()
        (tmp_path / "truncated.jpg").write_bytes(good[: len(good) // 3])
        return tmp_path / "truncated.jpg"


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways; viewers rotate it 90° clockwise
    exif.get_ifd(0x8769)[0x9003] = "2021:07:04 18:30:00"
    (segment,) = ImageModality().segments(source_for(_photo(tmp_path / "phone.jpg", exif=exif)))
    assert segment.payload.size == (300, 400)
    assert segment.payload.getpixel((250, 50))[0] > 200  # red quadrant now top-right
    # the size as shown, the frame OCR boxes are measured in (the file stores 400x300 on its side)
    meta = dict(segment.meta or {})
    assert is_fingerprint(meta.pop("picture", None))  # for "same picture" when searching by example
    assert meta == {"width": 300, "height": 400, "taken": "2021-07-04T18:30:00"}


def test_large_jpeg_is_decoded_small(tmp_path: Path) -> None:
    path = _photo(tmp_path / "big.jpg", size=(4000, 3000))
    (segment,) = ImageModality().segments(source_for(path))
    assert max(segment.payload.size) <= 2 * 448 and segment.payload.mode == "RGB"
    assert segment.meta["width"] == 4000


def test_image_over_pixel_limit_is_refused_with_the_setting_to_change(tmp_path: Path) -> None:
    path = _photo(tmp_path / "panorama.jpg", size=(2000, 1000))
    with pytest.raises(ExtractError, match=r"panorama.jpg: image is 2000x1000 \(2 MP\), over the limit of 1 MP; raise the setting max_image_pixels \(env MMSEARCH_MAX_IMAGE_PIXELS\)"):
        list(ImageModality(max_pixels=1_000_000).segments(source_for(path)))


@pytest.mark.parametrize(("name", "mode"), [("scan.png", "I;16"), ("scan.tif", "I;16"), ("scan.tif", "F")])
def test_16_bit_and_float_grey_images_keep_their_tones(tmp_path: Path, name: str, mode: str) -> None:
    """Pillow's convert clips them at 255: a 16-bit scan reached the embedder as a white square."""
    ramp = np.linspace(0, 1, 256)[None, :].repeat(32, axis=0)
    data = (ramp * 65535).astype(np.uint16) if mode == "I;16" else ramp.astype(np.float32)
    Image.fromarray(data).save(tmp_path / name)
    assert Image.open(tmp_path / name).mode == mode
    (segment,) = ImageModality().segments(source_for(tmp_path / name))
    grey = np.asarray(segment.payload)[..., 0].astype(int)
    assert grey[0, 0] == 0 and grey[0, -1] == 255 and abs(grey[0, 128] - 128) <= 1


def test_every_page_of_a_multipage_tiff_is_a_segment_located_by_page(tmp_path: Path) -> None:
    """A scanner's or fax's TIFF holds the whole document: page 1 alone would hide the rest."""
    colours = [(255, 0, 0), (0, 160, 0), (0, 0, 255)]
    pages = [Image.new("RGB", (300 + 50 * i, 200), colour) for i, colour in enumerate(colours)]
    path = tmp_path / "scan.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="tiff_deflate")
    segments = list(ImageModality().segments(source_for(path)))
    assert [s.locator.page for s in segments] == [1, 2, 3]
    assert [s.payload.getpixel((5, 5)) for s in segments] == colours
    assert [s.meta["width"] for s in segments] == [300, 350, 400]
    assert segments[0].meta["pages"] == 3
    with pytest.raises(ExtractError, match=r"scan.tif: the TIFF has 3 pages, over the limit of 2 \(raise MMSEARCH_IMAGE_MAX_PAGES"):
        list(ImageModality(max_pages=2).segments(source_for(path)))
    # One page: no page number, as for any photo. An animation is one picture, not pages.
    pages[0].save(tmp_path / "single.tif")
    assert [s.locator.page for s in ImageModality().segments(source_for(tmp_path / "single.tif"))] == [None]
    pages[0].save(tmp_path / "blink.gif", save_all=True, append_images=pages[1:], duration=200, loop=0)
    (frame,) = ImageModality().segments(source_for(tmp_path / "blink.gif"))
    assert frame.locator.page is None and frame.payload.getpixel((5, 5)) == colours[0]


def test_non_image_with_image_extension_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "fake.png").write_text("hello")
    with pytest.raises(ExtractError, match="fake.png: not a readable image"):
        list(ImageModality().segments(source_for(tmp_path / "fake.png")))


class TestTextModality(ModalityContract):
    @pytest.fixture
    def modality(self) -> TextModality:
        return TextModality(chunk_chars=200, overlap=40)

    @pytest.fixture
    def sample_file(self, tmp_path: Path) -> Path:
        path = tmp_path / "essay.md"
        path.write_text("\n\n".join(f"Paragraph {i}. " + "Words follow words here. " * 8 for i in range(6)))
        return path

    @pytest.fixture
    def corrupt_file(self, tmp_path: Path) -> Path:
        (tmp_path / "data.txt").write_bytes(bytes(range(256)) * 4)
        return tmp_path / "data.txt"


def test_chunks_cover_the_text_with_offsets_that_point_into_it(tmp_path: Path) -> None:
    text = "\n\n".join(f"Sentence number {i} is here. And another one follows it." for i in range(40))
    path = tmp_path / "long.txt"
    path.write_text(text)
    segments = list(TextModality(chunk_chars=300, overlap=60).segments(source_for(path)))
    assert len(segments) > 5
    for seg in segments:
        assert text[seg.locator.char_start : seg.locator.char_end] == seg.text == seg.payload
        assert len(seg.text) <= 300 and not seg.text[0].isspace()
    covered = set()
    for seg in segments:
        covered.update(range(seg.locator.char_start, seg.locator.char_end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_chunks_break_at_sentences_not_mid_word() -> None:
    text = "Alpha beta gamma. " * 100
    for start, end in chunk_spans(text, 120, 30):
        assert text[start:end].endswith(".") or end == len(text.rstrip())


def test_legacy_encodings_are_read(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_bytes("Café crème brûlée".encode("cp1252"))
    (tmp_path / "utf16.txt").write_bytes("Grüße aus Köln".encode("utf-16"))
    assert [s.text for s in TextModality().segments(source_for(tmp_path / "old.txt"))] == ["Café crème brûlée"]
    assert [s.text for s in TextModality().segments(source_for(tmp_path / "utf16.txt"))] == ["Grüße aus Köln"]


def test_empty_file_has_no_segments(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("  \n")
    assert list(TextModality().segments(source_for(tmp_path / "empty.txt"))) == []



def test_an_oversized_image_fails_with_the_same_reason_while_another_thread_decodes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside probe F3: a thread in the middle of an OCR decode must not change why a 108 MP image
    fails in another; a process-wide warnings filter set by the decoding thread once turned
    Pillow's bomb warning into "not a readable image" (the reason changed from run to run)."""
    import threading

    import mmsearch_ocr.reader as reader

    big = tmp_path / "big.png"
    Image.new("1", (12_000, 9_000)).save(big)  # 108 MP: over the 100 MP default, under Pillow's 179 MP refusal
    small = _photo(tmp_path / "small.jpg", size=(64, 48))
    inside, done = threading.Event(), threading.Event()
    real_flatten = reader.flatten

    def slow_flatten(image: Image.Image) -> Image.Image:  # the OCR thread, held mid-decode
        inside.set()
        done.wait(30)
        return real_flatten(image)

    monkeypatch.setattr(reader, "flatten", slow_flatten)
    ocr = threading.Thread(target=reader.picture, args=(source_for(small), None))
    ocr.start()
    try:
        assert inside.wait(30)
        with pytest.raises(ExtractError) as failure:
            list(ImageModality().segments(source_for(big)))
    finally:
        done.set()
        ocr.join()
    assert "image is 12000x9000 (108 MP), over the limit of 100 MP; raise the setting max_image_pixels" in str(failure.value)
