"""Fusion and per-media aggregation against hand-computed numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmsearch.search.aggregate import choose_evidence, per_media
from mmsearch.search.fusion import LegScores, ReciprocalRankFusion, WeightedSum, noisy_or
from mmsearch.search.legs import SegmentHit

LEGS = [
    LegScores('"car"@clip', 1.0, {1: 0.9, 2: 0.5}, part=0),
    LegScores('"car"@keyword', 1.0, {2: 0.8, 3: 0.6}, part=0),
    LegScores('2:"red"@clip', 2.0, {1: 0.4, 3: 0.9}, part=1),
    LegScores('-"night"@clip', -1.0, {1: 0.5, 3: 0.1}, part=2),
]


def test_weighted_sum_noisy_ors_legs_of_a_part_then_weighs_parts() -> None:
    fused = WeightedSum().fuse(LEGS)
    # part 0: media 2 found by both legs: 1 - (1 - 0.5)(1 - 0.8) = 0.9; positive weights sum to 3
    assert fused[1] == pytest.approx((1 * 0.9 + 2 * 0.4 - 1 * 0.5) / 3)
    assert fused[2] == pytest.approx(1 * 0.9 / 3)
    assert fused[3] == pytest.approx((1 * 0.6 + 2 * 0.9 - 1 * 0.1) / 3)
    assert WeightedSum().fuse([LegScores("a", 1.0, {1: 0.2}), LegScores("b", -1.0, {1: 0.9}, part=1)])[1] == 0.0


def test_found_by_two_legs_scores_at_least_as_high_as_by_either() -> None:
    both = WeightedSum().fuse([LegScores("v", 1.0, {1: 0.7}), LegScores("k", 1.0, {1: 0.6})])[1]
    assert both >= 0.7 and both == pytest.approx(noisy_or([0.7, 0.6])) == pytest.approx(0.88)


def test_rrf_sums_weight_over_k_plus_rank() -> None:
    fused = ReciprocalRankFusion(k=60).fuse(LEGS)
    assert fused[1] == pytest.approx(1 / 61 + 2 / 62 - 1 / 61)
    assert fused[2] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[3] == pytest.approx(1 / 62 + 2 / 61 - 1 / 62)


def test_a_leg_joins_kinds_by_noisy_or_and_keeps_the_best_segment_per_kind() -> None:
    hits = [(7, SegmentHit(1, "q@lite/image", 0.3, 0.6, "image")), (7, SegmentHit(2, "q@lite/image", 0.2, 0.4, "image")),
            (7, SegmentHit(3, "q@lite/text", 0.5, 0.5, "text")), (8, SegmentHit(4, "q@lite/text", 0.5, 0.7, "text"))]
    leg = per_media("q@lite", 1.0, 0, hits)
    assert leg.scores == {7: pytest.approx(0.8), 8: pytest.approx(0.7)} and list(leg.scores) == [7, 8]


def test_evidence_groups_legs_per_segment_and_puts_the_name_last() -> None:
    hits = [SegmentHit(0, "q@keyword/name", 3.0, 0.95, "name"), SegmentHit(5, "q@lite/text", 0.4, 0.6, "text"),
            SegmentHit(6, "q@lite/text", 0.5, 0.8, "text"), SegmentHit(5, "q@keyword/text", 2.0, 0.9, "text")]
    assert [(h.segment_id, h.leg) for h in choose_evidence(hits)] == [
        (5, "q@lite/text"), (5, "q@keyword/text"), (6, "q@lite/text"), (0, "q@keyword/name")]


def test_pages_within_the_first_fifty_results_are_slices_of_one_ranking(open_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An outside probe paged by k=10 through 100 results and got 93 distinct ones: each page ran
    on a deeper candidate pool, and items found by two legs moved in and out between pages."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(120):
        (lib / f"n{i:03d}.txt").write_text(f"note {i} frog pond {'lily ' * (i % 7)}tadpole {i % 13} meadow {i % 5}\n")
    engine = open_engine()
    engine.index([lib])
    whole = [h.path for h in engine.search("frog pond lily", k=50, min_score=0)]
    paged = [h.path for offset in range(0, 50, 10) for h in engine.search("frog pond lily", k=10, offset=offset, min_score=0)]
    assert paged == whole and len(set(whole)) == 50
