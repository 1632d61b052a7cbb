"""A plugin that returns the wrong thing for one file (a NaN vector, a str instead of a Segment, an
all-zero vector) fails that file alone with a reason naming the plugin; an embedder whose width
changes after the index was made stops the run before anything is written; an embedder failing on
a query is an ``EmbedError``, not a traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mmsearch
from mmsearch import hookimpl
from mmsearch.embedder import Embedder, l2_normalize
from mmsearch.modality import Modality
from mmsearch.testing import HashEmbedder, fake_plugin
from mmsearch.types import TEXT, Locator, Segment, Source
from conftest import OpenEngine


class Moody(HashEmbedder):
    """The hash embedder, except for texts holding a trigger word: NaN, zeros or extreme scales."""

    name = "moody"

    def __init__(self) -> None:
        super().__init__(dim=16)
        self.grow_to: int | None = None  # set: a "model" that turns out wider once loaded
        self.fail_queries = False

    def embed_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        if self.grow_to is not None:
            self.dim = self.grow_to
            return np.ones((len(payloads), self.dim), dtype=np.float32)
        rows = super().embed_batch(kind, payloads)
        for i, payload in enumerate(payloads):
            text = str(payload)
            if "poison" in text:
                rows[i] = np.nan
            elif "blank" in text:
                rows[i] = 0.0
            elif "huge" in text:
                rows[i] *= 1e30
            elif "tiny" in text:
                rows[i] *= 1e-30
            elif "crash" in text:
                raise RuntimeError("model server dropped the connection")
        return rows

    def embed_query_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        if self.fail_queries:
            raise RuntimeError("inference server unreachable")
        return super().embed_query_batch(kind, payloads)


class Sloppy(Modality):
    """Reads .note files; for one named ``sloppy`` it yields a str, as a careless plugin might."""

    name = "note"
    kinds = frozenset({TEXT})
    extensions = frozenset({".note"})

    def extract(self, source: Source) -> Iterator[Segment]:
        text = source.path.read_text()
        yield text if source.path.stem == "sloppy" else Segment(kind=TEXT, payload=text, text=text)  # type: ignore[misc]


class Plugin:
    def __init__(self, embedder: Moody) -> None:
        self.embedder = embedder

    @hookimpl
    def register_embedders(self, register: Callable[[Embedder], None]) -> None:
        register(self.embedder)

    @hookimpl
    def register_modalities(self, register: Callable[[Modality], None]) -> None:
        register(Sloppy())


def _library(root: Path, names: dict[str, str]) -> Path:
    root.mkdir()
    for name, text in names.items():
        (root / name).write_text(text)
    return root


@pytest.fixture
def moody() -> Moody:
    return Moody()


@pytest.fixture
def engine(open_engine: OpenEngine, moody: Moody) -> mmsearch.Engine:
    return open_engine(embedders=["moody"], plugins=[fake_plugin(), Plugin(moody)])


def test_a_bad_output_for_one_file_fails_that_file_and_the_run_goes_on(engine: mmsearch.Engine, tmp_path: Path) -> None:
    lib = _library(tmp_path / "lib", {
        "a.txt": "apples and pears", "b.txt": "poison ivy in the garden", "c.txt": "a blank page",
        "d.txt": "huge waves at sea", "e.txt": "tiny ants", "f.note": "a note on oranges", "sloppy.note": "oops",
        "g.txt": "crash course in baking",
    })
    summary = engine.index([lib])
    reasons = {f.path: f.error for f in summary.failures}
    assert set(reasons) == {"b.txt", "c.txt", "sloppy.note", "g.txt"}, reasons
    assert reasons["g.txt"] == "embedder 'moody' failed: RuntimeError: model server dropped the connection"
    assert "'moody' returned NaN" in reasons["b.txt"]
    assert "'moody' returned an all-zero vector" in reasons["c.txt"]
    assert "modality 'note' yielded str, not a Segment" in reasons["sloppy.note"]
    assert summary.added == 4
    # Extreme but finite scales are normalised, not overflowed to zeros: their files are found.
    assert engine.search("huge waves at sea", k=1, min_score=0)[0].path == "d.txt"
    assert engine.search("tiny ants", k=1, min_score=0)[0].path == "e.txt"


def test_l2_normalize_survives_float32_extremes() -> None:
    rows = np.array([[3e30, 4e30], [3e-30, 4e-30], [3.0, 4.0]], dtype=np.float32)
    assert np.allclose(l2_normalize(rows), [[0.6, 0.8]] * 3)


def test_an_embedder_that_widens_after_the_index_was_made_writes_nothing(engine: mmsearch.Engine, moody: Moody,
                                                                         tmp_path: Path) -> None:
    lib = _library(tmp_path / "lib", {"a.txt": "apples", "b.txt": "pears"})
    assert engine.index([lib]).added == 2
    (lib / "c.txt").write_text("cherries")
    moody.grow_to = 24
    with pytest.raises(mmsearch.SpaceMismatchError, match="now returns 24-d vectors, but this index holds 16-d ones; nothing was written"):
        engine.index([lib])
    moody.grow_to, moody.dim = None, 16
    assert sum(engine.status().media.values()) == 2  # the index is as it was, and still opens and searches
    assert engine.search("apples", k=1, min_score=0)[0].path == "a.txt"


def test_an_embedder_failing_on_a_query_is_an_embed_error(engine: mmsearch.Engine, moody: Moody, tmp_path: Path) -> None:
    engine.index([_library(tmp_path / "lib", {"a.txt": "apples"})])
    moody.fail_queries = True
    with pytest.raises(mmsearch.EmbedError, match="embedder 'moody' failed on the query \"apples\": RuntimeError: inference server unreachable"):
        engine.search("apples")


class NulNotes(Modality):
    """Text with NUL bytes, as decoders of old office files and PDFs sometimes give."""

    name = "nul"
    kinds = frozenset({TEXT})
    extensions = frozenset({".nul"})

    def extract(self, source: Source) -> Iterator[Segment]:
        text = source.path.read_text()
        yield Segment(kind=TEXT, payload=text, text=text, meta={"title": "Night\x00 notes", "section": "a\x00b"})


class NulPlugin:
    @hookimpl
    def register_modalities(self, register: Callable[[Modality], None]) -> None:
        register(NulNotes())


def test_text_with_nul_is_stored_on_sqlite_and_postgresql(open_engine: OpenEngine, db_url: str | None, tmp_path: Path) -> None:
    """PostgreSQL refuses NUL in text: the file failed there with a raw SQL error."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "old.nul").write_text("owls\x00 hunt at night")
    engine = open_engine(db=db_url, plugins=[fake_plugin(), NulPlugin()])
    summary = engine.index([lib])
    assert summary.added == 1 and not summary.failures, summary.failures
    (hit,) = engine.search('"owls hunt"', k=1, min_score=0)
    assert hit.path == "old.nul" and hit.best is not None and hit.best.text == "owls hunt at night"
    assert [h.path for h in engine.search('title:"night notes" owls', min_score=0)] == ["old.nul"]


class Careless(Modality):
    """Reads .cue files; the file's first word picks a malformed segment a careless plugin might
    yield (a subtitle plugin with an open-ended last cue, bytes decoded with surrogateescape, ...)."""

    name = "cue"
    kinds = frozenset({TEXT})
    extensions = frozenset({".cue"})

    def extract(self, source: Source) -> Iterator[Segment]:
        mode, _, text = source.path.read_text().partition(" ")
        yield Segment(TEXT, "an empty cue before the first line" if mode != "blank" else "   ")
        bad = {
            "infinite": dict(locator=Locator(start=1.0, end=float("inf"))),
            "negative": dict(locator=Locator(start=-5.0, end=-1.0)),
            "reversed": dict(locator=Locator(char_start=50, char_end=3)),
            "page0": dict(locator=Locator(page=0)),
            "surrogate": dict(payload=b"caf\xe9".decode("utf-8", "surrogateescape")),
            "bytes": dict(payload=b"raw bytes"),
            "meta": dict(meta={"when": object()}),
        }.get(mode, {})
        yield Segment(**{"kind": TEXT, "payload": text, "text": text, **bad})


class CarelessPlugin:
    @hookimpl
    def register_modalities(self, register: Callable[[Modality], None]) -> None:
        register(Careless())


def test_a_segment_the_index_cannot_hold_fails_its_file_naming_the_plugin(open_engine: OpenEngine, tmp_path: Path) -> None:
    cases = ["infinite", "negative", "reversed", "page0", "surrogate", "bytes", "meta"]
    lib = _library(tmp_path / "lib", {**{f"{c}.cue": f"{c} otters in the river" for c in cases},
                                      "good.cue": "fine otters in the river", "blank.cue": "blank walruses on ice"})
    engine = open_engine(plugins=[fake_plugin(), CarelessPlugin()])
    summary = engine.index([lib])
    reasons = {f.path: f.error for f in summary.failures}
    assert set(reasons) == {f"{c}.cue" for c in cases}, reasons
    for case, words in [("infinite", "end=inf"), ("negative", "start=-5.0"), ("reversed", "chars end (3) before they start (50)"),
                        ("page0", "page=0"), ("surrogate", "not valid Unicode"), ("bytes", "must be str, got bytes"),
                        ("meta", "meta must be JSON-serialisable")]:
        assert f"modality 'cue' yielded a segment the index cannot hold: " in reasons[f"{case}.cue"], reasons[f"{case}.cue"]
        assert words in reasons[f"{case}.cue"], (case, reasons[f"{case}.cue"])
    assert summary.added == 2
    # the blank cue is dropped, not stored: blank.cue holds one segment, good.cue two
    hits = engine.search("walruses on ice", k=10, min_score=0)
    assert [h.path for h in hits if h.path == "blank.cue"] == ["blank.cue"]
    assert engine.status().segments == 3
