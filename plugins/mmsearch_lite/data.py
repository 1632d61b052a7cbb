"""Captioned images that install by package name, for training and measuring the lite space.

Sources (nothing comes from a model hub or the open web):

* Debian ``openclipart-png`` + ``openclipart-svg``: ~8,100 clip-art PNGs; the caption comes from
  the matching SVG's metadata (``dc:title`` and ``dc:subject`` keywords).
* npm ``emoji-datasource-google``: ~1,900 emoji PNGs (skin-tone variants skipped) named in
  ``emoji.json`` (``name`` and ``short_names``).

Every item has a stable id (``source:relative path``); the split is a hash of that id, so it does
not depend on file order, on which sources are installed, or on the machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from PIL import Image

OPENCLIPART_DIR = Path("/usr/share/openclipart")
EMOJI_PACKAGE = "emoji-datasource-google"
#: Percent buckets of the id hash: [0, 15) held out for the final table, [15, 25) validation
#: (early stopping and temperature choice), the rest training.
TEST_PERCENT = 15
VAL_PERCENT = 10

# Keywords that name a collection or a tool rather than what the picture shows.
_NOISE_KEYWORDS = frozenset(
    {"", "hash", "magick", "lemon_theme_icon", "unsorted", "theme", "special", "united_nations_member", "mapsym"}
)
# A few clip-art PNGs are rendered at up to 231 megapixels; decoding one takes a gigabyte.
MAX_PIXELS = 40_000_000
# A title shared by this many files names a collection ("Lemon SVG theme"); use the file name then.
_COLLECTION_TITLE_COUNT = 5
_TITLE = re.compile(r"<dc:title>(.*?)</dc:title>", re.S)
_SUBJECT = re.compile(r"<dc:subject>(.*?)</dc:subject>", re.S)
_LI = re.compile(r"<rdf:li>(.*?)</rdf:li>", re.S)
_METADATA = re.compile(r"<metadata.*?</metadata>", re.S)


@dataclass(frozen=True)
class Item:
    id: str  # "openclipart:animals/cat.png" or "emoji:1f431.png"
    path: Path  # the PNG
    caption: str


def name_of(caption: str) -> str:
    """An item's name: its caption up to the first comma ("alarm clock" of "alarm clock, time,
    bell"), what people type and what the eval sets and the calibration query with."""
    return caption.split(",")[0].strip()


def cache_dir() -> Path:
    """Where features and the npm data live unless ``MMSEARCH_LITE_CACHE`` says otherwise."""
    env = os.environ.get("MMSEARCH_LITE_CACHE")
    return Path(env) if env else Path(platformdirs.user_cache_dir("mmsearch")) / "lite"


def emoji_dir() -> Path | None:
    """The installed ``emoji-datasource-google`` package folder, or None.

    Looked up in ``MMSEARCH_LITE_EMOJI_DIR``, then ``<cache>/npm`` (where
    ``npm install --prefix <cache>/npm emoji-datasource-google`` puts it), then ``/tmp/emoji``.
    """
    candidates = []
    if os.environ.get("MMSEARCH_LITE_EMOJI_DIR"):
        candidates.append(Path(os.environ["MMSEARCH_LITE_EMOJI_DIR"]))
    candidates += [cache_dir() / "npm" / "node_modules" / EMOJI_PACKAGE, Path("/tmp/emoji/node_modules") / EMOJI_PACKAGE]
    for path in candidates:
        if (path / "emoji.json").is_file() and (path / "img" / "google" / "64").is_dir():
            return path
    return None


def split_of(item_id: str) -> str:
    """``"test"``, ``"val"`` or ``"train"``, from a hash of the id alone."""
    bucket = int.from_bytes(hashlib.sha1(item_id.encode("utf-8")).digest()[:8], "big") % 100
    if bucket < TEST_PERCENT:
        return "test"
    return "val" if bucket < TEST_PERCENT + VAL_PERCENT else "train"


def _clean(text: str) -> str:
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    text = re.sub(r"[_\s]+", " ", text)
    return text.strip()


def _stem_words(path: Path) -> str:
    # "folder_bomb.svg" -> "folder bomb"; "star_22pt03step" -> "star pt step" -> digits dropped
    words = re.sub(r"[\d_\-.]+", " ", path.stem)
    return " ".join(words.split())


def _svg_metadata(svg: Path) -> tuple[str, list[str]]:
    with open(svg, encoding="utf-8", errors="replace") as handle:
        head = handle.read(300_000)  # metadata sits near the top; some drawings run to megabytes
    match = _METADATA.search(head)
    block = match.group(0) if match else ""
    title = _TITLE.search(block)
    subject = _SUBJECT.search(block)
    keywords = _LI.findall(subject.group(1)) if subject else []
    return (_clean(title.group(1)) if title else ""), [_clean(k).lower() for k in keywords]


def _small_enough(png: Path) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(png) as image:  # reads the header only
                width, height = image.size
    except (OSError, Image.DecompressionBombError):
        return False
    return width * height <= MAX_PIXELS


def openclipart_items(root: Path = OPENCLIPART_DIR) -> list[Item]:
    png_root, svg_root = root / "png", root / "svg"
    if not png_root.is_dir() or not svg_root.is_dir():
        return []
    raw: list[tuple[Path, Path, str, list[str]]] = []
    for png in sorted(png_root.rglob("*.png")):
        rel = png.relative_to(png_root)
        if not _small_enough(png):
            continue
        svg = (svg_root / rel).with_suffix(".svg")
        title, keywords = _svg_metadata(svg) if svg.is_file() else ("", [])
        raw.append((png, rel, title, keywords))
    title_counts = Counter(title.lower() for _, _, title, _ in raw)
    items = []
    for png, rel, title, keywords in raw:
        name = title if title and title_counts[title.lower()] < _COLLECTION_TITLE_COUNT else _stem_words(rel)
        extra = [k for k in dict.fromkeys(keywords) if k.replace(" ", "_") not in _NOISE_KEYWORDS and k != name.lower()]
        caption = ", ".join([name, *extra[:5]]) if name else ", ".join(extra[:5])
        if caption:
            items.append(Item(id=f"openclipart:{rel.as_posix()}", path=png, caption=caption))
    return items


def emoji_items(root: Path | None = None) -> list[Item]:
    root = root or emoji_dir()
    if root is None:
        return []
    images = root / "img" / "google" / "64"
    items = []
    for entry in json.loads((root / "emoji.json").read_text("utf-8")):
        path = images / entry["image"]
        if not entry.get("has_img_google") or not path.is_file():
            continue
        names = [(entry.get("name") or "").lower()] + [s.replace("_", " ").replace("-", " ") for s in entry.get("short_names", [])]
        caption = ", ".join(dict.fromkeys(n for n in names if n))
        if caption:
            items.append(Item(id=f"emoji:{entry['image']}", path=path, caption=caption))
    return sorted(items, key=lambda item: item.id)


def all_items() -> list[Item]:
    return openclipart_items() + emoji_items()


def by_split(items: Iterable[Item], split: str) -> list[Item]:
    return [item for item in items if split_of(item.id) == split]


def heldout_sample(items: Iterable[Item], n: int) -> list[Item]:
    """A fixed sample of the held-out split (the first ``n`` by a second hash), for quick checks."""
    test = by_split(items, "test")
    return sorted(test, key=lambda item: hashlib.sha1(f"sample:{item.id}".encode()).hexdigest())[:n]
