"""Hub correction: a segment close to every generic query (a hub) must not win a query that a
specific segment answers, even when the hub's raw cosine is a little higher."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mmsearch.search.calibrate import hubness, leg_features
from mmsearch.search.curves import read_file

LITE_CALIBRATION = Path(__file__).resolve().parents[1] / "plugins" / "mmsearch_lite" / "calibration.json"


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_a_hub_loses_to_the_specific_answer_under_the_shipped_curve() -> None:
    rng = np.random.default_rng(0)
    dim = 64
    bank = unit(rng.normal(size=(60, dim)) + 2.0 * unit(rng.normal(size=dim)))  # generic queries share a direction
    hub = unit(bank.mean(axis=0))  # near every generic query
    specific = unit(rng.normal(size=dim))
    others = unit(rng.normal(size=(40, dim)))
    query = unit(0.55 * specific + 0.62 * hub + 0.2 * unit(rng.normal(size=dim)))
    library = np.vstack([hub, specific, others]).astype(np.float32)
    raw = library[:2] @ query
    assert raw[0] > raw[1]  # by cosine alone the hub would win
    assert hubness(library[:1], bank)[0] > hubness(library[1:2], bank)[0] + 0.3
    null = unit(rng.normal(size=(16, dim))).astype(np.float32)
    prior = float((bank @ library.T).var(axis=1).mean())
    features = leg_features(query, raw, library[:2], library, prior, bank.astype(np.float32), null)
    curve = read_file(LITE_CALIBRATION)["effnetlite0+minilm-l6/bridge-v1"].curve("text", "image")
    assert curve is not None
    hub_score, specific_score = curve(features)
    assert specific_score > hub_score, (specific_score, hub_score)
