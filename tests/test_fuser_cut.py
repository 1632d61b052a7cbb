"""Issue 10 item 14: the "no good match" cut uses the chosen fuser's score when that fuser declares
its scores calibrated; an uncalibrated fuser (rrf) only orders, the cut stays on the weighted score."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mmsearch import hookimpl
from mmsearch.search.fusion import Fuser, LegScores, ReciprocalRankFusion, WeightedSum
from mmsearch.testing import fake_plugin


class Sceptic(Fuser):
    """Calibrated, and sure that nothing matches."""

    name = "sceptic"
    calibrated = True

    def fuse(self, legs: Sequence[LegScores]) -> dict[int, float]:
        return {m: 0.0 for leg in legs for m in leg.scores}


class Orderer(Sceptic):
    """The same scores, but declared uncalibrated: they only order the results."""

    name = "orderer"
    calibrated = False


class Plugin:
    @hookimpl
    def register_fusers(self, register) -> None:  # type: ignore[no-untyped-def]
        register(Sceptic())
        register(Orderer())


def test_cut_follows_a_calibrated_fusers_scores(library: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    engine = open_engine(plugins=[fake_plugin(), Plugin()])
    engine.index([library])
    weighted = engine.search("cat kitten whiskers", min_score=0.05)
    assert weighted, "the weighted fuser finds the cat above the cut"
    assert engine.search("cat kitten whiskers", min_score=0.05, fuser="sceptic") == [], \
        "a calibrated fuser scoring 0 must leave nothing above the cut"
    ordered = engine.search("cat kitten whiskers", min_score=0.05, fuser="orderer")
    assert {h.path for h in ordered} == {h.path for h in weighted}, "an uncalibrated fuser only orders"


def test_builtin_fusers_declare_calibration() -> None:
    assert WeightedSum.calibrated is True and ReciprocalRankFusion.calibrated is False
