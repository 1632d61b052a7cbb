"""`mmsearch calibrate` / Engine.calibrate: fit a space's P(relevant) curves on a labelled set of
the user's own, store them in the index directory, and search with them."""

from __future__ import annotations

import json
from pathlib import Path

import mmsearch
import pytest
from click.testing import CliRunner

from mmsearch.errors import MMSearchError
from mmsearch.search.curves import CALIBRATION_FILE, FALLBACK, read_file
from mmsearch.testing import fake_plugin

from conftest import tagged_png

TOPICS = ["cat", "dog", "horse", "rocket", "boat", "train", "apple", "pear", "guitar", "piano", "tree", "flower",
          "castle", "bridge", "clock", "lamp", "chair", "table", "shoe", "hat"]
ABSENT = ["volcano", "submarine", "penguin", "tractor", "violin", "cactus", "anchor", "kettle", "rabbit", "tiger"]


def write_set(root: Path, topics: list[str], absent: list[str]) -> Path:
    lines = [{"query": f"a {t}", "relevant": [f"{t}.png"]} for t in topics]
    lines += [{"query": f"a {a}", "kind": "absent"} for a in absent]
    lines += [{"query": f"{a}x zorp", "kind": "gibberish"} for a in absent]
    path = root / "labels.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture
def calibrated(tmp_path: Path, db_url: str | None) -> tuple[mmsearch.Engine, Path]:
    library = tmp_path / "library"
    library.mkdir()
    rng_words = ["photo", "picture", "image", "old", "new", "small", "big", "red", "blue", "green"]
    for n, topic in enumerate(TOPICS):  # each image: its topic and two common words
        tagged_png(library / f"{topic}.png", f"{topic} {rng_words[n % 10]} {rng_words[(n * 3 + 1) % 10]}")
    engine = mmsearch.Engine.open(tmp_path / "index", db=db_url, embedders=["hash"], plugins=[fake_plugin()])
    engine.index([library])
    yield engine, library
    engine.close()


def test_calibrate_fits_stores_and_uses_the_curves(calibrated: tuple[mmsearch.Engine, Path], tmp_path: Path) -> None:
    engine, library = calibrated
    before = engine._searcher.calibrations[0]
    assert before is None  # the fake ships none: searches used the z-only fallback
    fitted = engine.calibrate(write_set(tmp_path, TOPICS, ABSENT), library=library)
    assert [c.model for c in fitted] == ["hash-64"] and set(fitted[0].curves) == {"text->image"}
    stored = read_file(engine.index_dir / CALIBRATION_FILE)["hash-64"]
    assert stored.curve("text", "image") == fitted[0].curves["text->image"] != FALLBACK
    # the fitted curve is what search now uses: right answers shown, absent concepts cut
    for topic in TOPICS[:5]:
        assert [h.path for h in engine.search(f"a {topic}", k=3)] == [f"{topic}.png"]
    # the intercept keeps 7 % of the fitting set's absent queries over the cut: at most 1 of 10
    assert sum(bool(engine.search(f"a {a}")) for a in ABSENT) <= 1
    assert fitted[0].stats["text->image"]["false_alarms_absent"] <= 0.1
    # a reopened engine reads it from the index directory
    engine.close()
    with mmsearch.Engine.open(engine.index_dir, db=engine.db_url, plugins=[fake_plugin()]) as again:
        assert again._searcher.calibrations[0] == stored


def test_calibrate_refuses_a_set_without_enough_examples(calibrated: tuple[mmsearch.Engine, Path], tmp_path: Path) -> None:
    engine, library = calibrated
    with pytest.raises(MMSearchError, match="too few examples.*label more queries"):
        engine.calibrate(write_set(tmp_path, TOPICS[:2], []), library=library)
    assert not (engine.index_dir / CALIBRATION_FILE).exists()


def test_cli_calibrate_reports_and_saves(calibrated: tuple[mmsearch.Engine, Path], tmp_path: Path) -> None:
    from mmsearch.cli import cli

    engine, library = calibrated
    index, db = engine.index_dir, engine.db_url
    engine.close()
    result = CliRunner().invoke(cli, ["--index", str(index), "--db", db, "calibrate", str(write_set(tmp_path, TOPICS, ABSENT)),
                                      "--library", str(library)], env={"MMSEARCH_PLUGINS": "mmsearch.testing.plugin"})
    assert result.exit_code == 0, result.output
    assert "hash-64:" in result.output and "text->image" in result.output and f"Saved to {index / CALIBRATION_FILE}" in result.output


def test_a_fitted_curve_never_scores_a_closer_hit_lower() -> None:
    """Two collinear features where the free fit trades one off negatively (relevance follows
    their difference): the fitted curve keeps every weight >= 0, so raising a hit's similarity
    never lowers its score."""
    import numpy as np

    from mmsearch.eval.fit import Examples, fit_decision_curve

    rng = np.random.default_rng(0)
    n = 600
    raw = rng.uniform(0.2, 0.6, n)
    hub = raw - rng.uniform(0.1, 0.5, n)  # hub-corrected cosine: raw minus the segment's hubness
    labels = (hub - 0.6 * raw + rng.normal(0, 0.03, n) > -0.05).astype(float)
    z = rng.normal(0, 1, n) + 2 * labels
    kind = np.where(labels == 1, "present", "absent")
    curve = fit_decision_curve(Examples(np.stack([raw, hub, z], axis=1), labels, np.ones(n, bool), kind))
    assert min(curve.weights) >= 0, curve
    hit = np.array([[0.4, 0.1, 2.0]])
    assert curve(hit + [0.1, 0.1, 0.0])[0] >= curve(hit)[0]


def test_cli_calibrate_fits_only_the_features_asked_for(calibrated: tuple[mmsearch.Engine, Path], tmp_path: Path) -> None:
    from mmsearch.cli import cli
    from mmsearch.search.curves import FEATURES

    engine, library = calibrated
    index, db = engine.index_dir, engine.db_url
    engine.close()
    labels = str(write_set(tmp_path, TOPICS, ABSENT))
    env = {"MMSEARCH_PLUGINS": "mmsearch.testing.plugin"}
    result = CliRunner().invoke(cli, ["--index", str(index), "--db", db, "calibrate", labels, "--library", str(library),
                                      "--features", "z,gap"], env=env)
    assert result.exit_code == 0, result.output
    curve = read_file(index / CALIBRATION_FILE)["hash-64"].curve("text", "image")
    assert curve is not None
    weights = dict(zip(FEATURES, curve.weights))
    assert weights["raw"] == weights["hub"] == 0.0 and weights["z"] + weights["gap"] > 0
    bad = CliRunner().invoke(cli, ["--index", str(index), "--db", db, "calibrate", labels, "--features", "z,loudness"], env=env)
    assert bad.exit_code == 1 and "unknown calibration feature(s) loudness; choose from raw, hub, z, gap" in bad.output
    assert "Traceback" not in bad.output


def test_calibrate_fits_the_pairs_it_can_and_names_the_one_it_cannot(calibrated: tuple[mmsearch.Engine, Path], tmp_path: Path) -> None:
    """Every right answer is an image, so the documents beside them give text->text best hits
    that are never right: that pair cannot be fitted, and must not stop text->image from being."""
    engine, library = calibrated
    for topic in TOPICS[:6]:
        (library / f"notes-{topic}.txt").write_text(f"a {topic} mentioned in passing among other notes")
    engine.index([library])
    fitted = engine.calibrate(write_set(tmp_path, TOPICS, ABSENT), library=library)
    (calibration,) = fitted
    assert "text->image" in calibration.curves and "text->text" not in calibration.curves
    (reason,) = calibration.stats["not_fitted"]
    assert reason.startswith("hash text->text: too few examples to fit a curve (0 right best hits")
