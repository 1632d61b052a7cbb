"""What every set builder shares: the label writer, absent-concept and gibberish queries."""

from __future__ import annotations

import json
import random
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..labels import ANSWERED

#: Seed of every random choice in the builders: the sets are the same on every machine.
SEED = 20261130
#: Queries per absent kind (the issue asks for at least 30 of each).
N_ABSENT = 40
N_GIBBERISH = 40

_STOPWORDS = frozenset(["a", "an", "the", "of", "on", "in", "at", "to", "with", "and", "or", "for", "by", "from", "under", "over", "its", "it", "is", "are"])

#: Plausible things a personal library might hold. Each set keeps only those sharing no content
#: word with its own captions and texts, so none has a right answer in that library.
CONCEPTS = (
    "a submarine", "a stethoscope", "a wind turbine", "a saxophone", "a hot air balloon", "a snowman",
    "a kayak on a river", "a tractor in a field", "a wedding cake", "a microscope", "a typewriter", "a helicopter",
    "a volcano erupting", "a penguin", "a pineapple", "a skateboard", "a chandelier", "a fire hydrant", "a parachute",
    "an igloo", "a windmill", "a harp", "a trumpet", "a canoe", "a dentist", "a sewing machine", "a waterfall",
    "a jellyfish", "an octopus", "a peacock", "a zebra", "a camel", "a rhinoceros", "a hedgehog", "a beaver",
    "a lobster", "a seahorse", "a pretzel", "a slice of pizza", "a bowl of ramen", "a stack of pancakes",
    "an ice cream cone", "a lawn mower", "a vacuum cleaner", "a washing machine", "a refrigerator", "a toaster",
    "a kettle", "a blender", "a chainsaw", "a ladder", "a wheelbarrow", "a shovel", "a bulldozer", "a forklift",
    "a cruise ship", "a glacier", "a canyon", "a coral reef", "a rainforest", "a tornado", "a rainbow",
    "a solar eclipse", "a comet", "a pyramid", "a castle", "a skyscraper", "a stadium", "a museum", "a hospital",
    "a pharmacy", "a bakery", "a firefighter", "a nurse", "a ballet dancer", "a surfer riding a wave",
    "a snowboarder", "a golfer", "a boxing match", "a dartboard", "a bowling pin", "a trophy", "a diploma",
    "a passport", "a suitcase", "a necklace", "a pair of sunglasses", "a raincoat", "high heels", "a backpack",
    "a wallet", "a credit card", "a piggy bank", "a doorbell", "a traffic light", "a parking meter",
    "a petrol station", "a scarecrow", "a beehive", "a bird nest", "a spider web", "a mushroom", "a sunflower",
    "a tulip", "a bonsai", "a pumpkin", "a carrot", "broccoli", "a watermelon", "a banana", "a strawberry",
    "an avocado", "a loaf of bread", "a pot of tea", "a bottle of wine", "orange juice", "a sandcastle",
    "a treehouse", "a hammock", "a campfire", "a lantern", "a compass rose", "a quill", "a globe of the moon",
    "a zipper", "a button hole", "a thimble", "a vending machine", "an escalator", "a subway train",
    "a tugboat", "a harbour crane", "a drone", "a robot vacuum", "a smartwatch", "a printer cartridge",
    "a chessboard", "a jigsaw", "a yo-yo", "a kite", "a frisbee", "a trampoline", "a swing", "a seesaw",
    "a gorilla", "a panda", "a koala", "an ostrich", "a walrus", "a shark", "a whale", "a lizard", "a frog",
    "a snail", "a ladybird", "a dragonfly", "a moth", "an eagle", "an owl", "a parrot", "a pigeon", "a rooster",
)


@dataclass
class LabelWriter:
    """Collects queries, then writes ``labels.jsonl`` (one JSON object a line, see labels.py)."""

    lines: list[dict[str, Any]] = field(default_factory=list)

    def query(self, qid: str, text: str, relevant: Sequence[str | dict[str, Any]], **meta: Any) -> None:
        self.lines.append({"id": qid, "query": text, "relevant": list(relevant), **meta})

    def absent(self, qid: str, text: str, kind: str) -> None:
        assert kind != ANSWERED
        self.lines.append({"id": qid, "query": text, "kind": kind})

    def write(self, path: Path) -> None:
        path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in self.lines), encoding="utf-8")


def content_words(text: str) -> set[str]:
    """Lower-case words minus stopwords, with a crude plural strip so "trees" meets "tree"."""
    words = set()
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _STOPWORDS:
            continue
        words.add(word)
        for suffix in ("es", "s"):
            if word.endswith(suffix) and len(word) > len(suffix) + 2:
                words.add(word[: -len(suffix)])
                break
    return words


def absent_concepts(library_texts: Iterable[str], n: int = N_ABSENT, seed: int = SEED) -> list[str]:
    """``n`` concepts from :data:`CONCEPTS` with no content word in any of ``library_texts``."""
    vocabulary = set().union(*(content_words(t) for t in library_texts))
    kept = [c for c in CONCEPTS if not content_words(c) & vocabulary]
    if len(kept) < n:
        raise RuntimeError(f"only {len(kept)} absent concepts left after removing the library's words; add concepts to CONCEPTS")
    return random.Random(seed).sample(kept, n)


_ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "fl", "gl", "kr", "pl", "sk", "st", "tr", "zh"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ou", "ee", "oo"]
_CODAS = ["", "", "", "n", "r", "l", "x", "sk", "nt"]


def gibberish(library_texts: Iterable[str], n: int = N_GIBBERISH, seed: int = SEED) -> list[str]:
    """``n`` pronounceable non-words of 1–3 words, none of them a word of the library."""
    vocabulary = set().union(*(content_words(t) for t in library_texts))
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        words = ["".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(rng.randint(2, 3)))
                 for _ in range(rng.randint(1, 3))]
        phrase = " ".join(words)
        if not content_words(phrase) & vocabulary and phrase not in out:
            out.append(phrase)
    return out


def add_absent(labels: LabelWriter, library_texts: Sequence[str], seed: int = SEED) -> None:
    for i, text in enumerate(absent_concepts(library_texts, seed=seed), start=1):
        labels.absent(f"absent-{i:02d}", text, "absent")
    for i, text in enumerate(gibberish(library_texts, seed=seed), start=1):
        labels.absent(f"gibberish-{i:02d}", text, "gibberish")


def fresh_dir(out: Path) -> Path:
    """``out/library``, emptied: a rebuilt set never keeps files of an earlier build."""
    library = out / "library"
    if library.exists():
        shutil.rmtree(library)
    library.mkdir(parents=True)
    return library
