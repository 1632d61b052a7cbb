"""Tesseract in-process through tesserocr, one engine per thread.

Why tesserocr and not pytesseract: pytesseract starts the ``tesseract`` program for every image
and reloads the model each time; on an A4 page at 200 dpi that took 3.2 s against 0.34 s for
tesserocr here (same text). A ``PyTessBaseAPI`` is not safe to share between threads, and the
indexer extracts in threads, so each thread keeps its own (about 0.1 s to create).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from mmsearch.errors import ModelUnavailableError

log = logging.getLogger(__name__)

_TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                  "/usr/share/tessdata", "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata")
_local = threading.local()
_quieted = threading.Event()
_L_SEVERITY_NONE = 6  # leptonica/environ.h


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0-100
    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels
    new_line: bool  # first word of a text line
    new_para: bool  # first word of a paragraph


def tessdata_dir(lang: str) -> Path:
    """The folder holding ``<lang>.traineddata`` for every language in ``lang`` (``eng+deu``)."""
    candidates = [os.environ["TESSDATA_PREFIX"]] if os.environ.get("TESSDATA_PREFIX") else []
    for folder in map(Path, [*candidates, *_TESSDATA_DIRS]):
        if all((folder / f"{code}.traineddata").is_file() for code in lang.split("+")):
            return folder
    raise ModelUnavailableError(
        f"Tesseract language data for {lang!r} not found (looked in {', '.join(candidates + list(_TESSDATA_DIRS[:3]))}); "
        "install it with `apt-get install tesseract-ocr` (other languages: tesseract-ocr-LANG), "
        "set TESSDATA_PREFIX, or set ocr = \"never\""
    )


_ready: dict[str, bool] = {}


def tesseract_ready(lang: str) -> bool:
    """Whether Tesseract can run for ``lang``; says why once (a log warning) when it cannot."""
    if lang not in _ready:
        try:
            import tesserocr  # noqa: F401

            tessdata_dir(lang)
            _ready[lang] = True
        except (ImportError, ModelUnavailableError) as exc:
            log.warning("OCR is off: %s", exc if isinstance(exc, ModelUnavailableError) else
                        f"tesserocr is not installed ({exc}); pip install 'mmsearch[documents]'")
            _ready[lang] = False
    return _ready[lang]


def _quiet_leptonica() -> None:
    """Leptonica, under Tesseract's layout analysis, prints its internal errors to the C stderr
    ("Error in boxClipToRectangle: box outside rectangle"), in the middle of the progress bar, for
    pictures Tesseract then reads normally. Its message level is raised to none, in the copy that
    tesserocr's wheel bundles (best effort: a build linked otherwise keeps printing)."""
    import ctypes
    import tesserocr

    folder = Path(tesserocr.__file__).resolve().parent.parent / "tesserocr.libs"
    for library in sorted(folder.glob("libleptonica*.so*")) or [None]:
        try:
            ctypes.CDLL(str(library) if library else "libleptonica.so.6").setMsgSeverity(_L_SEVERITY_NONE)
        except (OSError, AttributeError):
            continue


def _api(lang: str):  # noqa: ANN202 - tesserocr has no type stubs
    import tesserocr

    apis = getattr(_local, "apis", None)
    if apis is None:
        apis = _local.apis = {}
        if not _quieted.is_set():
            _quiet_leptonica()
            _quieted.set()
    if lang not in apis:
        apis[lang] = tesserocr.PyTessBaseAPI(path=str(tessdata_dir(lang)), lang=lang, psm=tesserocr.PSM.AUTO)
    return apis[lang]


def has_text_lines(image: Image.Image, lang: str, side: int = 1024) -> bool:
    """The cheap test: Tesseract's layout analysis alone (no recognition) on a copy at most
    ``side`` px, looking for a line shaped like text (wider than twice its height)."""
    import tesserocr

    small = image.copy()
    small.thumbnail((side, side))
    api = _api(lang)
    api.SetImage(small)
    layout = api.AnalyseLayout()
    if layout is None:
        return False
    for line in tesserocr.iterate_level(layout, tesserocr.RIL.TEXTLINE):
        box = line.BoundingBox(tesserocr.RIL.TEXTLINE)
        if box and box[2] - box[0] > 2 * (box[3] - box[1]) and box[3] - box[1] >= 5:
            return True
    return False


def read_words(image: Image.Image, lang: str) -> list[Word]:
    """Every word Tesseract recognises in ``image``, in reading order."""
    import tesserocr

    RIL = tesserocr.RIL
    api = _api(lang)
    api.SetImage(image)
    api.Recognize()
    words: list[Word] = []
    iterator = api.GetIterator()
    if iterator is None:
        return words
    for item in tesserocr.iterate_level(iterator, RIL.WORD):
        try:
            text = item.GetUTF8Text(RIL.WORD)
            box = item.BoundingBox(RIL.WORD)
        except RuntimeError:  # tesserocr raises "No text returned" for an empty word
            continue
        if not text or not text.strip() or not box:
            continue
        words.append(Word(text.strip(), float(item.Confidence(RIL.WORD)), tuple(box),  # type: ignore[arg-type]
                          item.IsAtBeginningOf(RIL.TEXTLINE), item.IsAtBeginningOf(RIL.PARA)))
    return words
