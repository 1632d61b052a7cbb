"""A bank of generic queries. How much their scores vary across a kind of segment is the typical
spread of scores in that leg: it steadies calibration where the library is too small to measure
the spread itself (see ``calibrate.py``)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..embedder import Embedder
from ..types import TEXT

TOPICS = (
    "a dog", "a cat", "a horse", "birds", "fish in the sea", "a farm", "a forest", "mountains", "a beach", "a desert",
    "a river", "snow", "rain", "a storm", "the night sky", "a sunset", "flowers", "a garden", "trees in autumn",
    "a city street", "a bridge", "a church", "a castle", "a house", "a kitchen", "a bedroom", "an office", "a school",
    "a hospital", "a shop", "a market", "a restaurant", "a plate of food", "bread", "fruit", "vegetables", "a cake",
    "coffee", "wine", "a car", "a bicycle", "a train", "an airplane", "a boat", "a bus", "a road", "a map",
    "a computer", "a phone", "a camera", "a book", "a newspaper", "a letter", "money", "a bank", "the stock market",
    "a meeting", "a speech", "a concert", "music", "a guitar", "a piano", "a painting", "a sculpture", "a museum",
    "a film", "a television show", "a football match", "tennis", "swimming", "running", "a gym", "yoga",
    "a doctor", "medicine", "a baby", "children playing", "a family", "a wedding", "a birthday party", "friends",
    "an old man", "a woman smiling", "a crowd", "soldiers", "the police", "a fire", "an accident", "a factory",
    "a machine", "tools", "a building site", "electricity", "science", "a laboratory", "space", "the moon",
    "a planet", "the ocean", "an island", "a lake", "a volcano", "an earthquake", "politics", "an election",
    "the law", "a court", "history", "a war", "religion", "a holiday", "travel", "a hotel", "an airport",
    "a ticket", "clothes", "shoes", "a hat", "jewellery", "a toy", "a game", "a puzzle", "a chart", "a diagram",
    "a logo", "text on a sign", "a screenshot", "a recipe", "a tutorial", "a podcast", "an interview", "a lecture",
)
TEMPLATES = ("a photo of {}", "something about {}")


def bank_texts() -> list[str]:
    return [template.format(topic) for topic in TOPICS for template in TEMPLATES]


def null_texts(count: int = 64, seed: int = 7) -> list[str]:
    """Pronounceable gibberish ("vorplix sna"), the null model of a text query: whatever such a
    query scores on a segment is what that segment gives *anything* (a hub), not evidence."""
    rng = np.random.default_rng(seed)
    onsets = ["b", "bl", "d", "f", "fl", "g", "gw", "k", "kr", "l", "m", "n", "p", "pl", "q", "r", "s", "sn", "t", "v", "w", "x", "z", "zz"]
    vowels = ["a", "e", "i", "o", "u", "y", "oo", "ai"]
    codas = ["", "", "x", "rp", "ft", "mp", "zz", "k", "q", "rn"]

    def word() -> str:
        return "".join(str(rng.choice(onsets)) + str(rng.choice(vowels)) + str(rng.choice(codas)) for _ in range(int(rng.integers(1, 3))))

    return [" ".join(word() for _ in range(int(rng.integers(1, 4)))) for _ in range(count)]


class QueryBank:
    """Bank vectors per embedder, embedded once and cached in the index directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._vectors: dict[tuple[int, str], np.ndarray] = {}

    def vectors(self, space_id: int, embedder: Embedder, kind: str) -> np.ndarray | None:
        """The generic-topic bank in this space (text queries only; others use the library)."""
        return self._cached(space_id, embedder, kind, "bank", bank_texts)

    def null(self, space_id: int, embedder: Embedder, kind: str) -> np.ndarray | None:
        """The gibberish bank in this space (text queries only)."""
        return self._cached(space_id, embedder, kind, "null", null_texts)

    def _cached(self, space_id: int, embedder: Embedder, kind: str, which: str, texts_of: Callable[[], list[str]]) -> np.ndarray | None:
        if kind != TEXT or not embedder.accepts(TEXT):
            return None
        key = (space_id, which)
        if key not in self._vectors:
            texts = texts_of()
            path = self.directory / f"{which}-{space_id}-{kind}.npy"
            shape = (len(texts), int(embedder.dim))
            cached = _load(path, shape)
            if cached is None:
                # A new index of a model this machine has searched before: the bank is the same
                # (embedding it costs seconds on a CPU, the bulk of a first search). The copy is
                # checked on two texts, so weights behind an unchanged model name are caught.
                shared = _shared_path(embedder, which, texts)
                cached = _load(shared, shape) if shared is not None else None
                if cached is not None and not _agrees(embedder, texts, cached):
                    cached = None
                if cached is None:
                    cached = embedder.embed(TEXT, texts)
                    if shared is not None:
                        _save(shared, cached)
                _save(path, cached)
            self._vectors[key] = cached
        return self._vectors[key]


def shared_dir() -> Path | None:
    """``MMSEARCH_BANK_DIR``, else the user cache folder (``None`` where there is none)."""
    if os.environ.get("MMSEARCH_BANK_DIR"):
        return Path(os.environ["MMSEARCH_BANK_DIR"]).expanduser()
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("mmsearch")) / "banks"
    except Exception:  # noqa: BLE001 - no home folder: every index embeds its own bank
        return None


def _shared_path(embedder: Embedder, which: str, texts: list[str]) -> Path | None:
    folder = shared_dir()
    if folder is None:
        return None
    identity = json.dumps([embedder.name, embedder.model, int(embedder.dim), which, texts])
    digest = hashlib.blake2b(identity.encode(), digest_size=12).hexdigest()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder / f"{which}-{digest}.npy"


def _agrees(embedder: Embedder, texts: list[str], cached: np.ndarray, probes: int = 2) -> bool:
    fresh = embedder.embed(TEXT, texts[:probes])
    return bool(np.all(np.sum(fresh * cached[:probes], axis=1) >= 0.999))


def _save(path: Path, vectors: np.ndarray) -> None:
    """Best effort: a unique temp name then an atomic rename, so two processes embedding the bank
    at once never write into one file; where the directory cannot be written (a read-only
    index), the bank simply stays in memory."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, vectors)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def _load(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    try:
        data = np.load(path)
    except (OSError, ValueError):
        return None
    return data.astype(np.float32) if data.shape == shape else None
