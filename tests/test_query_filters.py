"""Filters run before every leg (a 1% filter still fills the top-k), dates use the EXIF capture
date before mtime, sizes compare bytes, and the keyword leg finds rare words and file names on
SQLite (FTS5) and PostgreSQL (full text)."""

from __future__ import annotations

import math
import os
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

import mmsearch
from mmsearch.bench.synthetic import write_library
from mmsearch.testing import HashEmbedder, fake_plugin

TOPICS = ["red car on a highway", "a kitten asleep", "mountain lake at dawn", "a bowl of soup", "a city at night"]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> mmsearch.Engine:
    """2,000 media × 5 segments = 10,000 segments written straight into SQL; the 20 media under
    rare/ (1%) talk about soup, which the query below matches worst."""
    embedder = HashEmbedder()
    engine = mmsearch.Engine.open(tmp_path_factory.mktemp("big"), embedders=["hash"], plugins=[fake_plugin(embedder)])
    media = [(f"{'rare' if i % 100 == 0 else 'common'}/{i:04d}.txt", "text",
              [TOPICS[3] if i % 100 == 0 else f"{TOPICS[0]} {TOPICS[j % 3 + 1]} {j}" for j in range(5)]) for i in range(2000)]
    assert write_library(engine, "/synthetic", media, lambda texts: embedder.embed("text", texts)) == 10_000
    yield engine
    engine.close()


def test_a_filter_matching_one_percent_still_fills_the_top_k(big: mmsearch.Engine) -> None:
    assert big.status().segments == 10_000
    hits = big.search("red car highway", k=10, path="rare/*", min_score=0)
    assert len(hits) == 10 and all(h.path.startswith("rare/") for h in hits)
    assert not any(h.path.startswith("rare/") for h in big.search("red car highway", k=50, min_score=0))  # unfiltered: buried


def test_date_and_size_filters(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    lib = tmp_path / "lib"
    lib.mkdir()
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2019:05:04 10:00:00"  # DateTimeOriginal
    Image.new("RGB", (32, 32), (200, 30, 30)).save(lib / "old-photo.jpg", exif=exif)
    Image.new("RGB", (32, 32), (200, 30, 30)).save(lib / "new-photo.jpg")
    (lib / "big.txt").write_text("red " * 5000)
    (lib / "small.txt").write_text("red things\n")
    stamp = datetime(2023, 3, 1).timestamp()
    for name in ("old-photo.jpg", "new-photo.jpg", "big.txt", "small.txt"):
        os.utime(lib / name, (stamp, stamp))  # mtime 2023; the old photo was *taken* in 2019
    engine = open_engine()
    engine.index([lib])
    names = lambda q: sorted(h.path for h in engine.search(q, k=10, min_score=0))  # noqa: E731
    assert names("red before:2020") == ["old-photo.jpg"]
    assert names("red after:2020 type:image") == ["new-photo.jpg"]
    assert names("red after:2023-03 before:2023-03-02 type:text") == ["big.txt", "small.txt"]
    assert names("red after:2024") == []
    assert names("red size:>10KB") == ["big.txt"]
    assert "big.txt" not in names("red size:<1KB")


def test_a_path_without_wildcards_names_a_folder_too(tmp_path: Path, db_url: str | None, open_engine) -> None:  # type: ignore[no-untyped-def]
    """``path:photos`` means the photos folder, wherever it sits; it matched nothing before."""
    lib = tmp_path / "lib"
    for rel in ("photos/a.txt", "2024/photos/b.txt", "photos.txt", "other/photoshop.txt", "2024/trips/c.txt"):
        (lib / rel).parent.mkdir(parents=True, exist_ok=True)
        (lib / rel).write_text("red things\n")
    engine = open_engine(db=db_url)
    engine.index(lib)
    names = lambda q: sorted(h.path for h in engine.search(q, k=10, min_score=0))  # noqa: E731
    assert names("red path:photos") == ["2024/photos/b.txt", "photos/a.txt"]
    assert names("red path:photos/") == names("red path:photos")
    assert names("red path:2024/trips") == ["2024/trips/c.txt"]
    assert names("red path:photos.txt") == ["photos.txt"]  # a file's name, as before
    assert names('red path:"photo*"') == ["other/photoshop.txt", "photos.txt", "photos/a.txt"]  # a glob is a glob


def test_keyword_leg_finds_a_rare_word_and_a_file_name(tmp_path: Path, db_url: str | None, open_engine) -> None:  # type: ignore[no-untyped-def]
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(30):
        (lib / f"note{i:02d}.txt").write_text(f"meeting notes number {i} about the quarterly budget and staffing\n")
    (lib / "note07.txt").write_text("meeting notes: the supplier code is XQ-4471 and the zeppelin arrives Monday\n")
    (lib / "zanzibar-itinerary.txt").write_text("days of travel, hotels and ferries\n")
    engine = open_engine(db=db_url)
    engine.index([lib])
    hits = engine.search("zeppelin", k=3)
    assert hits[0].path == "note07.txt" and hits[0].score > 0.8
    assert any(ev.leg == '"zeppelin"@keyword/text' for ev in hits[0].evidence), hits[0].explain()
    hits = engine.search("zanzibar", k=3)
    assert hits[0].path == "zanzibar-itinerary.txt" and hits[0].score > 0.8
    assert hits[0].evidence[-1].kind == "name" and hits[0].evidence[-1].text == "zanzibar-itinerary.txt"
    assert 'leg "zanzibar"@keyword: ' in hits[0].explain()
    # the keyword leg honours the filters in SQL too
    assert engine.search("zeppelin", k=3, path="zanzibar*", min_score=0.8) == []
    # renames and removals reach the full-text index (triggers / expression indexes)
    (lib / "zanzibar-itinerary.txt").rename(lib / "trip.txt")
    (lib / "note07.txt").unlink()
    engine.index([lib])
    assert engine.search("zanzibar zeppelin", k=3, min_score=0.8) == []


def test_keyword_leg_stems_plurals_and_scores_names_on_the_calibrated_scale(tmp_path: Path, db_url: str | None, open_engine) -> None:  # type: ignore[no-untyped-def]
    """"trees" finds tree.png on both backends (Porter / 'english' stemming); a file name holding
    every query word is evidence worth the fitted P(relevant), 0.87, not a fixed cap."""
    from conftest import tagged_png

    from mmsearch.search.keyword import CURVES

    lib = tmp_path / "lib"
    lib.mkdir()
    for name in ("tree", "propeller", "wheel", "bicycle"):
        tagged_png(lib / f"{name}.png", "clip art drawing")  # the vectors cannot tell them apart
    engine = open_engine(db=db_url)
    engine.index([lib])
    full = 1.0 / (1.0 + math.exp(-(CURVES["name"][0] + CURVES["name"][1] + CURVES["name"][2])))
    for query, target in {"trees": "tree.png", "a propeller": "propeller.png", "wheels": "wheel.png", "bicycles": "bicycle.png"}.items():
        hits = engine.search(query, k=4, min_score=0)
        assert hits[0].path == target, [(h.path, h.score) for h in hits]
        name = hits[0].evidence[-1]
        assert name.kind == "name" and name.score == pytest.approx(full, abs=1e-6)
        assert all(h.score < hits[0].score - 0.3 for h in hits[1:]), [(h.path, h.score) for h in hits]
