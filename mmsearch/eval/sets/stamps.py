"""``stamps``: photographed objects on plain backgrounds, from Debian's ``tuxpaint-stamps-default``.

Tux Paint's stamps are mostly photos of animals, fruit, flowers, tools and vehicles cut out onto
transparency, each with a one-line English description ("A red kangaroo."), which is the query.
Cartoon folders and the symbols tree (letters, signs, money) are left out; the rest still holds a
few drawings (road signs, flags, Easter bunnies), as a real folder would.

The stamps are split in two by a hash of their path. The ``fit`` half is what the lite space's
photo/drawing gate was fitted on (``plugins/mmsearch_lite/style_fit.py``, with the drawings of that
half labelled by hand in :data:`DRAWN_IN_FIT`); the set built here is the other half only, which
nothing was fitted on. Files get neutral names (``IMG_0001.png``); several stamps that share a
description are all right answers to it.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from .common import LabelWriter, add_absent, fresh_dir

STAMPS_DIR = Path("/usr/share/tuxpaint/stamps")
FIT, HELD_OUT = "fit", "held-out"

#: The drawings among the fit half (looked at by eye; everything else there is a photo).
DRAWN_IN_FIT = frozenset(
    "animals/insects/bee.png animals/mammals/aquatic/orca.png clothes/hats/blue_fedora.png clothes/hats/green_fedora.png "
    "clothes/hats/tophat.png clothes/t_shirt.png clothes/t_sock.png people/body_parts/eye.png seasonal/christmas/Santa.png "
    "seasonal/christmas/candy_cane.png seasonal/christmas/hard_candy.png seasonal/christmas/star.png "
    "seasonal/easter/bunny-egg.png seasonal/easter/bunny-head.png seasonal/easter/bunny.png seasonal/easter/butterfly.png "
    "seasonal/easter/chick-hatched.png seasonal/easter/chick.png seasonal/easter/daffodil.png "
    "seasonal/easter/wrapped_chocolate_easter_egg_2.png seasonal/halloween/ghost.png seasonal/halloween/spider.png "
    "seasonal/hanukkah/dreydl-hay.png seasonal/hanukkah/dreydl-shin.png seasonal/hanukkah/dreydl.png "
    "seasonal/hanukkah/holiday_candle.png seasonal/newyears/confetti.png seasonal/newyears/party-hat.png "
    "space/planets/0_sun.png town/flags/greenflag.png town/flags/redflag.png town/flags/whiteflag.png "
    "town/roadsigns/arrow.png town/roadsigns/crossroads.png town/roadsigns/hospital.png town/roadsigns/school_sign.png "
    "town/roadsigns/stop.png town/roadsigns/stoplight_01_red.png town/roadsigns/stoplight_02_yellow.png "
    "town/roadsigns/t-junction.png town/roadsigns/toilets.png town/roadsigns/xing_school.png "
    "vehicles/ship/chineseJunk.png".split()
)


def missing_sources() -> str | None:
    if not STAMPS_DIR.is_dir():
        return f"{STAMPS_DIR} not found (apt-get install tuxpaint-stamps-default)"
    return None


def half(relpath: str) -> str:
    """FIT or HELD_OUT, from a hash of the stamp's path under :data:`STAMPS_DIR`."""
    return FIT if int(hashlib.sha1(f"stamps:{relpath}".encode()).hexdigest(), 16) % 2 == 0 else HELD_OUT


def description(png: Path) -> str | None:
    """The stamp's English description (first line of its .txt), without the closing stop."""
    text = png.with_suffix(".txt")
    if not text.is_file():
        return None
    lines = text.read_text(encoding="utf-8", errors="replace").splitlines()
    line = lines[0].strip().rstrip(".!|").strip() if lines else ""
    return line or None


def stamps(which: str, root: Path = STAMPS_DIR) -> Iterator[tuple[str, Path, str]]:
    """(path under ``root``, file, description) of each usable stamp in half ``which``, by path."""
    for png in sorted(root.rglob("*.png")):
        relpath = png.relative_to(root).as_posix()
        if "cartoon" in relpath or relpath.startswith("symbols/") or half(relpath) != which:
            continue
        text = description(png)
        if text:
            yield relpath, png, text


def build(out: Path) -> None:
    library = fresh_dir(out)
    labels = LabelWriter()
    by_text: dict[str, list[str]] = {}
    for n, (_relpath, png, text) in enumerate(stamps(HELD_OUT), start=1):
        name = f"IMG_{n:04d}.png"
        shutil.copyfile(png, library / name)
        by_text.setdefault(text, []).append(name)
    for i, (text, names) in enumerate(by_text.items(), start=1):
        labels.query(f"stamp-{i:03d}", text, names)
    add_absent(labels, list(by_text))
    labels.write(out / "labels.jsonl")
