"""On real ``lite`` vectors: a right best hit stands out from the leg's next hits (the ``gap``
feature) more than an absent concept's best hit does on average, and the shipped curve shows the
right photo first and cuts the absent concepts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mmsearch
from mmsearch.search.curves import FEATURES

lite = pytest.importorskip("mmsearch_lite")
pytest.importorskip("skimage")
if lite.towers.missing_packages():
    pytest.skip(f"lite embedder packages not installed: {lite.towers.missing_packages()}", allow_module_level=True)

# Chosen before any run of this test; not the eval sets' captions.
PRESENT = {"a cat": "chelsea", "a rocket": "rocket", "an astronaut": "astronaut"}
ABSENT = ("a giraffe", "a submarine", "a violin", "a tractor", "a wedding cake")


@pytest.fixture(scope="module")
def photo_engine(tmp_path_factory: pytest.TempPathFactory) -> mmsearch.Engine:
    from mmsearch.eval.sets.photos import PHOTOS, _image

    root = tmp_path_factory.mktemp("standout")
    library = root / "library"
    library.mkdir()
    for loader in PHOTOS:
        _image(loader).convert("RGB").save(library / f"{loader}.jpg", quality=92)
    engine = mmsearch.Engine.open(root / "index", embedders=["lite"])
    engine.index([library])
    yield engine
    engine.close()


def best_image_features(engine: mmsearch.Engine, text: str) -> np.ndarray:
    found = [feats for _, kind, _, feats in engine._searcher.probe(text, 50) if kind == "image"]
    return found[0][0]


@pytest.mark.slow
def test_a_right_answer_stands_out_and_an_absent_concept_does_not(photo_engine: mmsearch.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMSEARCH_SEARCH_MIN_SCORE", raising=False)
    gap = FEATURES.index("gap")
    present = [best_image_features(photo_engine, q)[gap] for q in PRESENT]
    absent = [best_image_features(photo_engine, q)[gap] for q in ABSENT]
    # Not every right answer stands out more than every absent concept's best hit (measured: the
    # astronaut 0.05 against an absent concept's 0.09; mmsearch/eval/RESULTS.md "calib3"): on average.
    # The factor 2 was set after that run (means 0.22 vs 0.06): a regression guard, not a finding.
    assert np.mean(present) > 2 * np.mean(absent), (present, absent)
    for query, loader in PRESENT.items():
        hits = photo_engine.search(query, k=3)
        assert hits and Path(hits[0].path).stem == loader, (query, [(h.path, h.score) for h in hits])
    shown = {q: [(h.path, round(h.score, 3)) for h in photo_engine.search(q, k=3)] for q in ABSENT}
    assert sum(bool(v) for v in shown.values()) <= 1, shown
