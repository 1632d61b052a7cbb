"""The leg features the P(relevant) curves weigh: how far a hit stands out from the leg's other
hits, and calibration files written before those features existed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mmsearch.search.calibrate import leg_features, standout
from mmsearch.search.curves import FEATURES, Curve, read_file


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def test_a_hit_that_stands_out_has_a_larger_margin_than_one_among_equals() -> None:
    raw = np.array([0.30, 0.31, 0.50, 0.29, 0.28])  # not sorted: the leg may hand hits in any order
    margin, gap = standout(raw, np.zeros(5))
    assert np.argmax(margin) == 2 and np.isclose(margin[2], 0.50 - 0.31)
    assert np.isclose(gap[2], 0.50 - np.mean([0.31, 0.30, 0.29, 0.28]))  # the CSLS query term: ranks 2-5
    # every other hit is compared with the best one, so its margin is negative
    assert (np.delete(margin, 2) < 0).all()
    flat = np.array([0.50, 0.49, 0.49, 0.48, 0.48])  # an absent concept: the best hit is one of many alike
    assert standout(flat, np.zeros(5))[0][0] < margin[2] / 10


def test_a_lone_hit_is_compared_with_the_library_baseline() -> None:
    margin, gap = standout(np.array([0.4]), np.array([0.1]))
    assert np.allclose(margin, 0.3) and np.allclose(gap, 0.3)


def test_leg_features_puts_standout_in_features_order() -> None:
    rng = np.random.default_rng(3)
    library = unit(rng.normal(size=(60, 32)))
    query = unit(library[7] + 0.3 * rng.normal(size=32))
    sims = library @ query
    order = np.argsort(-sims)[:5]
    features = leg_features(query, sims[order], library[order], library, None, None, None)
    assert features.shape == (5, len(FEATURES))
    gap = features[:, FEATURES.index("gap")]
    assert order[0] == 7 and np.argmax(gap) == 0
    assert np.isclose(gap[0], sims[order[0]] - sims[order[1:]].mean())  # cosine units: the best hit against ranks 2-5
    margin = leg_features(query, sims[order], library[order], library, None, None, None, ("margin",))[:, 0]
    assert margin[0] > 0 and (margin[1:] <= 0).all()


def test_a_calibration_file_without_the_new_features_scores_as_before(tmp_path: Path) -> None:
    """Curves fitted before gap existed (or by a user's `mmsearch calibrate` then) load
    with weight 0 on them, so an upgrade does not change any score."""
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"model": "m", "curves": {"text->image": {"weights": {"raw": 1.0, "hub": 2.0, "z": 0.5}, "bias": -2.0}}}))
    assert "gap" in FEATURES  # the feature this file predates
    curve = read_file(path)["m"].curve("text", "image")
    assert curve is not None and curve.weights == (1.0, 2.0, 0.5) + (0.0,) * (len(FEATURES) - 3)
    features = np.array([[0.4, 0.2, 3.0] + [5.0] * (len(FEATURES) - 3)])
    expected = 1 / (1 + np.exp(-(0.4 + 0.4 + 1.5 - 2.0)))
    assert np.isclose(curve(features)[0], expected)
    assert Curve.from_dict(curve.to_dict()) == curve
