"""The lite text->image curve's steepness against text->text (``mmsearch_lite.calibration_mixed``):
rescaling moves images against documents without changing any cut decision."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmsearch.search.curves import Curve, read_file

lite = pytest.importorskip("mmsearch_lite")
from mmsearch_lite.calibration_mixed import Rows, choose  # noqa: E402

SHIPPED = Path(lite.__file__).with_name("calibration.json")


def gate_space():
    found = [c for model, c in read_file(SHIPPED).items() if "/gate-" in model]
    assert len(found) == 1
    return found[0]


def test_the_shipped_rescaling_keeps_every_cut_decision_and_lifts_weak_right_images() -> None:
    calibration = gate_space()
    steepness = calibration.stats["text->image"]["steepness"]
    unscaled, shipped = Curve.from_dict(steepness["unscaled"]), calibration.curves["text->image"]
    assert 0 < steepness["s"] < 1 and np.allclose(shipped.weights, np.array(unscaled.weights) * steepness["s"])
    rng = np.random.default_rng(0)
    features = np.column_stack([rng.uniform(0, 0.6, 5000), rng.uniform(-0.3, 0.4, 5000), rng.uniform(-2, 8, 5000), rng.uniform(0, 0.2, 5000)])
    before, after = unscaled(features), shipped(features)
    assert np.array_equal(before >= 0.5, after >= 0.5)  # the default cut shows and hides exactly what it did
    assert np.array_equal(np.argsort(before, kind="stable"), np.argsort(after, kind="stable"))  # same order inside the leg
    # a right image the cut hides (P 0.05 before) no longer sits under a loosely related document at P 0.2
    weak = features[np.argmin(np.abs(before - 0.05))]
    assert float(shipped(weak[None])[0]) > 0.2 > float(unscaled(weak[None])[0])


def test_choose_takes_the_steepest_scale_the_simulation_cannot_tell_from_the_best() -> None:
    # 100 image queries: right image at logit -2, best document at -1 (the document wins unless s < 0.5);
    # 100 document queries: right document at +1, best image at +1.5 (the image wins unless s < 2/3)
    rows = Rows(right=np.r_[np.full(100, -2.0), np.full(100, 1.0)], other=np.r_[np.full(100, -1.0), np.full(100, 1.5)],
                image=np.r_[np.ones(100, bool), np.zeros(100, bool)])
    assert rows.shares(1.0) == (0.0, 0.0) and rows.shares(0.4) == (1.0, 1.0)
    s, table = choose(rows, (0.25, 0.4, 0.6, 1.0))
    assert s == 0.4 and [r["mean"] for r in table] == [1.0, 1.0, 0.5, 0.0]
    missing = Rows(right=np.array([np.nan, 1.0]), other=np.array([-5.0, 0.0]), image=np.array([True, False]))
    assert missing.shares(0.1) == (0.0, 1.0)  # a right image outside the leg's hits never counts as above
