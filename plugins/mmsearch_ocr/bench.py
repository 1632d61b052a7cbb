"""``python -m mmsearch_ocr.bench``: document indexing throughput with and without OCR, OCR cost
per page and per image, and OCR word accuracy on generated scanned pages.

Writes real files (PDFs with fpdf2, from the dev extra; scanned pages drawn by Pillow in DejaVu
Sans, embedded with no text layer; screenshots), indexes them through the public Engine with the
HashEmbedder so the figures measure reading and OCR, not a model, and prints one line per figure.
"""

from __future__ import annotations

import argparse
import io
import random
import re
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

import mmsearch
from mmsearch.testing import fake_plugin
from mmsearch.testing.documents import MANUAL_PAGES, page_image, screenshot, write_pdf, write_scanned_pdf

WORDS = ("boiler invoice repair garden ferry harbour museum ticket window kitchen radiator valve pressure "
         "neighbour marathon street party dentist appointment insurance account balance payment reminder "
         "delivery parcel address meeting agenda minutes budget quarter revenue forecast").split()


def scanned_lines(rng: random.Random, n: int = 12) -> list[str]:
    return [" ".join(rng.choice(WORDS).capitalize() if i == 0 else rng.choice(WORDS) for i in range(6)) + f" {rng.randint(10, 9999)}"
            for _ in range(n)]


def photocopied(image: Image.Image, rng: random.Random) -> Image.Image:
    """A worse scan: tilted 1-2 degrees, blurred, speckled, saved as a low-quality JPEG."""
    tilted = image.rotate(rng.uniform(-2, 2), resample=Image.Resampling.BICUBIC, fillcolor="white", expand=False)
    soft = tilted.filter(ImageFilter.GaussianBlur(1.2))
    pixels = np.asarray(soft, dtype=np.int16) + np.random.default_rng(rng.randint(0, 99)).normal(0, 18, (soft.height, soft.width, 1)).astype(np.int16)
    noisy = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    noisy.save(buffer, "JPEG", quality=35)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def photo(i: int) -> Image.Image:
    """scikit-image's sample photos (dev extra) when installed, else smooth noise."""
    try:
        from skimage import data

        names = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle_left", "hubble_deep_field")
        return Image.fromarray(getattr(data, names[i % len(names)])()).convert("RGB")
    except (ImportError, AttributeError):
        return Image.fromarray(np.random.default_rng(i).normal(128, 40, (60, 80, 3)).clip(0, 255).astype(np.uint8))


def index_seconds(lib: Path, ocr: str) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as index, mmsearch.Engine.open(
        Path(index), embedders=["hash"], plugins=[fake_plugin()], settings={"ocr": ocr, "workers": 1}
    ) as engine:
        started = time.perf_counter()
        summary = engine.index([lib])
        return time.perf_counter() - started, summary.segments


def word_accuracy(truth: list[list[str]], pdf: Path) -> float:
    """Share of the drawn words read back (bags of words per page), on the indexer's own path:
    the registered ``pdf`` modality renders each page, the ``extra_segments`` hook OCRs it."""
    with tempfile.TemporaryDirectory() as index, mmsearch.Engine.open(
        Path(index), embedders=["hash"], plugins=[fake_plugin()], settings={"ocr": "auto"}
    ) as engine:
        source = mmsearch.Source(path=pdf, relpath=pdf.name, size=pdf.stat().st_size)
        pages: dict[int, list[str]] = {}
        for segment in engine.registry.modalities["pdf"].obj.segments(source):
            for extra in engine.registry.extra_segments(source, "pdf", segment):
                pages.setdefault(extra.locator.page or 0, []).extend(re.findall(r"\w+", (extra.text or "").lower()))
    found = total = 0
    for page, lines in enumerate(truth, start=1):
        got = pages.get(page, [])
        bag = {w: got.count(w) for w in set(got)}
        for word in (w.lower() for line in lines for w in line.split()):
            total += 1
            if bag.get(word, 0) > 0:
                bag[word] -= 1
                found += 1
    return found / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20, help="pages in each generated PDF")
    parser.add_argument("--images", type=int, default=6, help="screenshots")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        text_lib, scan_lib, shot_lib = root / "text", root / "scan", root / "shots"
        for d in (text_lib, scan_lib, shot_lib):
            d.mkdir()
        write_pdf(text_lib / "manual.pdf", [MANUAL_PAGES[i % len(MANUAL_PAGES)] * 4 for i in range(args.pages)])
        truth = [scanned_lines(rng) for _ in range(args.pages)]
        write_scanned_pdf(scan_lib / "scans.pdf", [page_image(lines, font_px=36) for lines in truth])
        write_scanned_pdf(root / "photocopied.pdf", [photocopied(page_image(lines, font_px=36), rng) for lines in truth])
        for i in range(args.images):
            screenshot(("Settings", *scanned_lines(rng, 6))).save(shot_lib / f"shot{i}.png")

        print(f"{args.pages} text pages, {args.pages} scanned pages (A4, 200 dpi), {args.images} screenshots (1280x800); 1 worker")
        text_s, _ = index_seconds(text_lib, "auto")
        print(f"text-layer PDF:   {args.pages / text_s:7.1f} pages/s (no OCR needed)")
        never_s, _ = index_seconds(scan_lib, "never")
        auto_s, _ = index_seconds(scan_lib, "auto")
        print(f"scanned PDF:      {args.pages / never_s:7.1f} pages/s without OCR (page images only), "
              f"{args.pages / auto_s:.2f} pages/s with OCR; OCR costs {(auto_s - never_s) / args.pages:.2f} s/page")
        shots_never, _ = index_seconds(shot_lib, "never")
        shots_auto, _ = index_seconds(shot_lib, "auto")
        print(f"screenshots:      {args.images / shots_never:7.1f} images/s without OCR, {args.images / shots_auto:.2f} with; "
              f"OCR costs {(shots_auto - shots_never) / args.images:.2f} s/image")
        photo_lib = root / "photos"
        photo_lib.mkdir()
        for i in range(args.images):  # 12 MP camera-size JPEGs without text: what auto's test costs
            photo(i).resize((4000, 3000), Image.Resampling.BICUBIC).save(photo_lib / f"photo{i}.jpg", quality=90)
        photos_never, _ = index_seconds(photo_lib, "never")
        photos_auto, _ = index_seconds(photo_lib, "auto")
        print(f"12 MP photos without text: {args.images / photos_never:5.1f} images/s without OCR, {args.images / photos_auto:.2f} "
              f"with ocr=auto; its text test costs {(photos_auto - photos_never) / args.images * 1000:.0f} ms/image")
        print(f"OCR word accuracy on the scanned pages: {word_accuracy(truth, scan_lib / 'scans.pdf'):.1%} clean, "
              f"{word_accuracy(truth, root / 'photocopied.pdf'):.1%} photocopied (tilted, blurred, speckled, JPEG q35)")


if __name__ == "__main__":
    main()
