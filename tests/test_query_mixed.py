"""One ranking over images, documents and speech with the real offline ``lite`` space: single
queries find items of each modality, a negative part pushes an item down, a nonsense query finds
nothing at the default cut, and explanations name the legs (vector and keyword)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import mmsearch

pytestmark = pytest.mark.slow  # real lite weights

lite = pytest.importorskip("mmsearch_lite")
if lite.towers.missing_packages():
    pytest.skip(f"lite embedder packages not installed: {lite.towers.missing_packages()}", allow_module_level=True)

#: neutral file names (as a camera writes them), so only the pixels can find a photo
PHOTOS = {"IMG_0001": "chelsea", "IMG_0002": "rocket", "IMG_0003": "coffee", "IMG_0004": "astronaut"}
DOCUMENTS = {
    "photosynthesis.txt": "Photosynthesis lets green plants turn sunlight, water and carbon dioxide into sugar and oxygen. "
                          "Chlorophyll in the leaves absorbs the light.",
    "castles.md": "# Medieval castles\n\nStone castles with moats, towers and drawbridges defended lords and knights "
                  "during sieges in the Middle Ages.",
    "marathon.txt": "Training for a marathon: run slowly most days, add one long run each week, and rest before race day "
                    "so your legs recover.",
    "jazz.txt": "Jazz music was born in New Orleans. Louis Armstrong's trumpet and improvised solos shaped swing and bebop.",
    "zanzibar-notes.txt": "Packing list: passport, sunscreen, a hat, and the snorkel mask. Flight number QX4471 departs Tuesday.",
}
SPEECH = {
    "train-announcement": "The next train to Paris leaves from platform four. Passengers should board now, the doors close in two minutes.",
    "dentist-advice": "Your dentist recommends brushing your teeth twice a day and flossing to prevent cavities.",
    "orchestra-review": "Last night the orchestra played a Beethoven symphony, and the violins were wonderful.",
}
#: query -> the file it must rank first (a different modality each)
TARGETS = {
    "a cat": "photos/IMG_0001.png",
    "a rocket launch": "photos/IMG_0002.png",
    "a cup of coffee": "photos/IMG_0003.png",
    "how do plants make sugar from light": "docs/photosynthesis.txt",
    "knights defending a fortress": "docs/castles.md",
    "running a long distance race": "docs/marathon.txt",
    "the railway station": "speech/train-announcement.wav",
    "taking care of your teeth": "speech/dentist-advice.wav",
    "violins playing a symphony": "speech/orchestra-review.wav",
}
NONSENSE = ["qwzx vlorp", "blorft snazzle gwump", "xkcd zzyzx qqq"]


def build_library(root: Path) -> Path:
    """Photos, documents and espeak-ng speech under ``root``."""
    from PIL import Image
    from skimage import data

    (root / "photos").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "speech").mkdir()
    for name, sample in PHOTOS.items():
        Image.fromarray(getattr(data, sample)()).convert("RGB").save(root / "photos" / f"{name}.png")
    for name, body in DOCUMENTS.items():
        (root / "docs" / name).write_text(body + "\n")
    for name, sentence in SPEECH.items():
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(root / "speech" / f"{name}.wav"), sentence], check=True, capture_output=True)
    return root


@pytest.fixture(autouse=True)
def _shipped_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    """This module measures the shipped default of search.min_score, whatever the environment says."""
    monkeypatch.delenv("MMSEARCH_SEARCH_MIN_SCORE", raising=False)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> mmsearch.Engine:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    library = build_library(tmp_path_factory.mktemp("mixed-library"))
    opened = mmsearch.Engine.open(tmp_path_factory.mktemp("mixed-index"), embedders=["lite"])
    summary = opened.index([library])
    assert summary.failed == 0 and summary.added == len(PHOTOS) + len(DOCUMENTS) + len(SPEECH), summary
    yield opened
    opened.close()


@pytest.mark.parametrize("query, target", sorted(TARGETS.items()))
def test_one_query_ranks_the_right_item_of_any_modality_first(engine: mmsearch.Engine, query: str, target: str) -> None:
    hits = engine.search(query, k=len(PHOTOS) + len(DOCUMENTS) + len(SPEECH), min_score=0)
    ranking = [(h.path, round(h.score, 3)) for h in hits]
    assert hits[0].path == target, ranking
    # whatever the modality, every other item is a weak match, below the cut and well below the right
    # one (0.2: "a cup of coffee" leads the next photo by 0.246; 0.295 before the text->image curve
    # was flattened to 0.3x its steepness so that images are not buried under documents,
    # mmsearch/eval/RESULTS.md "rank": wrong photos below the cut now score ~0.15-0.3, not ~0.05)
    assert all(h.score < 0.5 and h.score < hits[0].score - 0.2 for h in hits[1:]), ranking


def test_the_default_cut_shows_right_answers_and_nothing_else(engine: mmsearch.Engine) -> None:
    """At the default cut each query shows its right answer alone (with the blend's refitted
    curves "a cup of coffee" passes too; under the old bridge curves it scored 0.49, a false
    abstention, see mmsearch/eval/RESULTS.md)."""
    shown = {query: [h.path for h in engine.search(query, k=3)] for query in TARGETS}
    assert {q: paths for q, paths in shown.items() if paths != [TARGETS[q]]} == {}


@pytest.mark.parametrize("query", NONSENSE)
def test_nonsense_finds_nothing_at_the_default_cut(engine: mmsearch.Engine, query: str) -> None:
    assert engine.search(query) == []
    assert engine.search(query, min_score=0.0)  # the cut, not an empty index, says "no good match"


def test_a_negative_part_pushes_the_unwanted_item_down(engine: mmsearch.Engine) -> None:
    plain = engine.search("a rocket launch", k=5, min_score=0)
    pushed = engine.search("a rocket launch - train", k=5, min_score=0)
    rank = lambda hits: [h.path for h in hits].index("speech/train-announcement.wav") if any(  # noqa: E731
        h.path == "speech/train-announcement.wav" for h in hits) else 99
    # The fitted curves already rank the announcement low (hub correction; it was second under
    # the old z-only curve); the negative part must push it further down, out of the top 5 here.
    assert plain[0].path == "photos/IMG_0002.png" and rank(plain) < 99 and rank(pushed) > rank(plain)
    assert pushed[0].path == "photos/IMG_0002.png"
    # "music - jazz": the jazz document leaves the top, and the negative part only ever lowers a
    # score. Which item then leads depends on Whisper's transcript of the orchestra review: tiny.en
    # in int8 decodes through the CPU's own kernels, and on some CPUs it hears "a made-over in
    # symphony, and my limbs weren't wonderful" (no "violins", no "Beethoven"), so a photo can lead
    # at a score near 0.05 (README, "What gets indexed", audio).
    music = {h.path: h.score for h in engine.search("music", k=20, min_score=0)}
    unwanted = engine.search("music - jazz", k=20, min_score=0)
    assert next(iter(music)) == "docs/jazz.txt"
    assert "docs/jazz.txt" not in [h.path for h in unwanted[:3]]
    assert all(h.score <= music.get(h.path, 1.0) + 1e-9 for h in unwanted), [(h.path, h.score, music.get(h.path)) for h in unwanted]


def test_explanations_and_deep_links(engine: mmsearch.Engine) -> None:
    from mmsearch.cli.search_cmd import format_hit

    hit = engine.search("the railway station", k=1)[0]
    assert hit.link() == hit.abspath + f"#t={hit.best.locator.start:g}"
    line = format_hit(1, hit)
    assert line.startswith(f"  1. {hit.score:.3f}  {hit.link()} @ 00:0") and '"the next train' in line.lower()
    assert 'leg "the railway station"@lite:' in hit.explain() and "raw=" in hit.explain()
    hit = engine.search("Louis Armstrong", k=1)[0]
    assert hit.path == "docs/jazz.txt" and set(hit.legs) == {'"Louis Armstrong"@lite', '"Louis Armstrong"@keyword'}
    assert max(hit.legs.values()) <= hit.score  # found by both legs: at least as high as either


def test_keyword_leg_finds_an_exact_code_and_a_file_name(engine: mmsearch.Engine) -> None:
    assert engine.search("QX4471", k=1)[0].path == "docs/zanzibar-notes.txt"
    hit = engine.search("zanzibar", k=1)[0]
    assert hit.path == "docs/zanzibar-notes.txt" and hit.evidence[-1].kind == "name"


def test_cli_and_python_speak_the_same_language(engine: mmsearch.Engine, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mmsearch.cli import cli

    python = [h.path for h in engine.search('"a cup of coffee" - cat type:image', k=2, min_score=0)]
    result = CliRunner().invoke(cli, ["--index", str(engine.index_dir), "search", "a cup of coffee", "-", "cat", "type:image",
                                      "-k", "2", "--min-score", "0", "--json"])
    assert result.exit_code == 0, result.output
    assert [h["path"] for h in json.loads(result.stdout)] == python and python[0] == "photos/IMG_0003.png"
