"""Two calibration paths a user meets without knowing it: a library holding many photos of one
subject (a burst, a pet folder) must not make that subject unfindable, and a search by example
must be scored by the image->image curve fitted for it, not by a fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import OpenEngine, tagged_png
from mmsearch.search import calibrate
from mmsearch.search.curves import Calibration, Curve, write_index_file


def _burst_library(root: Path, cats: int, others: int = 20) -> Path:
    root.mkdir()
    for i in range(cats):
        tagged_png(root / f"IMG_{i:04d}.png", f"cat kitten shot{i}")
    for i in range(others):
        tagged_png(root / f"other-{i:02d}.png", f"thing{i} stuff{i} item{i}")
    return root


@pytest.mark.parametrize("cats", [1, 4, 12])
def test_a_burst_of_one_subject_stays_above_the_cut(open_engine: OpenEngine, tmp_path: Path, cats: int) -> None:
    """With the mean and spread of the whole library as the baseline, 12 cats among 32 pictures
    lifted both until every cat fell under the cut (the text->image baseline is robust now)."""
    engine = open_engine()
    engine.index([_burst_library(tmp_path / "lib", cats)])
    hits = engine.search("cat kitten", k=50, min_score=0.5)
    # every cat shown, and ranked above anything else the hashing embedder lets through
    assert sorted(h.path for h in hits[:cats]) == sorted(f"IMG_{i:04d}.png" for i in range(cats)), hits


def test_the_burst_test_fails_with_the_old_baseline(open_engine: OpenEngine, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The test above measures the baseline, not something else: without the robust pair it fails."""
    monkeypatch.setattr(calibrate, "ROBUST_PAIRS", frozenset())
    from mmsearch.search import legs

    monkeypatch.setattr(legs, "ROBUST_PAIRS", frozenset())
    engine = open_engine()
    engine.index([_burst_library(tmp_path / "lib", 12)])
    assert engine.search("cat kitten", k=50, min_score=0.5) == []


def test_search_by_example_is_scored_by_the_image_to_image_curve(open_engine: OpenEngine, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Examples were looked up as "file->image", a curve nobody fits, so they always fell back to
    z alone; a curve stored for "image->image" must decide their scores. (The hashing embedder
    makes the example's vector that of IMG_0001, which same-picture evidence would settle: off.)"""
    from mmsearch.search import identical

    monkeypatch.setattr(identical, "SAME_PICTURE_COSINE", 1.01)
    engine = open_engine()
    lib = _burst_library(tmp_path / "lib", 3)
    engine.index([lib])
    example = tagged_png(tmp_path / "example.png", "cat kitten shot1", color=(10, 200, 10))  # not an indexed file
    assert [h.path for h in engine.search(image=example, k=1, min_score=0)] == ["IMG_0001.png"]
    never = Calibration(engine.embedders[0].model, {"image->image": Curve((0.0, 0.0, 0.0), -30.0)})
    write_index_file(engine.index_dir, never)
    engine._searcher.reload_calibrations(engine.index_dir)
    assert max(h.score for h in engine.search(image=example, k=5, min_score=0)) < 1e-6  # the curve decided
    assert engine.search("cat kitten", k=1, min_score=0)[0].score > 0.5  # text queries keep theirs


def test_copies_of_the_example_in_the_library_do_not_hide_each_other(open_engine: OpenEngine, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A photo and its JPEG export each lifted the other's baseline: with one copy in the library
    the example's match scored 0.93, with two both fell to 0.11, under the cut (a probe's find).
    A copy is now left out of its twin's baseline, as the hit itself always was. (The hashing
    embedder gives copies identical vectors, which the same-picture evidence would settle alone:
    it is switched off here, so that the baseline is what is measured.)"""
    from mmsearch.search import identical

    monkeypatch.setattr(identical, "SAME_PICTURE_COSINE", 1.01)
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(7):
        tagged_png(lib / f"other-{i}.png", f"thing{i} stuff{i} item{i}")
    tagged_png(lib / "cat.png", "cat kitten whiskers")
    engine = open_engine()
    engine.index([lib])
    example = tagged_png(tmp_path / "example.png", "cat kitten whiskers", color=(10, 200, 10))  # not an indexed file
    alone = engine.search(image=example, k=1, min_score=0)[0]
    assert alone.path == "cat.png" and alone.score > 0.5
    for n in (1, 2):
        tagged_png(lib / f"cat-export-{n}.png", "cat kitten whiskers", color=(200, 10, n))  # the same picture again
    engine.index([lib])
    shown = engine.search(image=example, k=10, min_score=0.5)  # the default cut
    assert sorted(h.path for h in shown) == ["cat-export-1.png", "cat-export-2.png", "cat.png"], shown
    assert min(h.score for h in shown) >= alone.score - 0.05
