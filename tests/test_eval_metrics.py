"""Metrics of ``mmsearch eval`` on toy rankings whose values are worked out by hand."""

from __future__ import annotations

import math

import pytest

from mmsearch.eval.metrics import (
    QueryRun,
    above_other_modalities,
    best_cut,
    false_abstention,
    false_alarm,
    false_alarm_rate,
    ndcg_at,
    recall_at,
    reciprocal_rank,
    summarise,
)


def run(ranks=(), n=1, scores=(0.9, 0.8, 0.7), kind="query", other=None, id="q"):
    return QueryRun(id, kind, tuple(scores), tuple(ranks), n, "image", other)


def test_recall_counts_the_share_of_relevant_items_in_the_top_k():
    r = run(ranks=(2, 7), n=3)
    assert recall_at(r, 1) == 0.0
    assert recall_at(r, 5) == pytest.approx(1 / 3)
    assert recall_at(r, 10) == pytest.approx(2 / 3)


def test_mrr_is_one_over_the_first_relevant_rank_and_zero_when_missing():
    assert reciprocal_rank(run(ranks=(3, 5), n=2)) == pytest.approx(1 / 3)
    assert reciprocal_rank(run(ranks=(), n=1)) == 0.0


def test_ndcg_matches_the_hand_computed_value():
    # Relevant at ranks 1 and 3 of 2 relevant: DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3).
    assert ndcg_at(run(ranks=(1, 3), n=2), 10) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert ndcg_at(run(ranks=(1,), n=1), 10) == 1.0
    assert ndcg_at(run(ranks=(11,), n=1), 10) == 0.0


def test_false_alarm_is_an_absent_query_whose_best_hit_reaches_the_cut():
    absent = run(n=0, kind="absent", scores=(0.6, 0.2))
    assert false_alarm(absent, 0.5) and false_alarm(absent, 0.6)
    assert not false_alarm(absent, 0.61)
    assert not false_alarm(run(n=0, kind="absent", scores=()), 0.0)  # no hit at all is never an alarm
    assert not false_alarm(run(ranks=(1,), scores=(0.9,)), 0.5)  # answered queries never alarm


def test_false_abstention_is_a_right_first_answer_hidden_by_the_cut():
    right = run(ranks=(1,), scores=(0.4, 0.3))
    assert false_abstention(right, 0.5)
    assert not false_abstention(right, 0.4)
    assert not false_abstention(run(ranks=(2,), scores=(0.4, 0.3)), 0.5)  # wrong first: not an abstention


def test_summary_rates_use_the_right_denominators():
    runs = [
        run(ranks=(1,), scores=(0.9, 0.1), id="a"),
        run(ranks=(1,), scores=(0.3, 0.1), id="b"),
        run(ranks=(2,), scores=(0.8, 0.7), id="c"),
        run(n=0, kind="absent", scores=(0.7,), id="d"),
        run(n=0, kind="gibberish", scores=(0.2,), id="e"),
    ]
    s = summarise(runs, cut=0.5)
    assert s.n == 3 and s.first_right == 2
    assert s.recall[1] == pytest.approx(2 / 3)
    assert s.mrr == pytest.approx((1 + 1 + 0.5) / 3)
    assert s.false_abstention == pytest.approx(1 / 2)  # b is hidden, of the two right-first queries
    assert s.r1_at_cut == pytest.approx(1 / 3)
    assert false_alarm_rate(runs, 0.5) == pytest.approx(1 / 2)
    assert s.above_other_modalities is None  # nothing of another modality in any ranking


def test_above_other_modalities_needs_the_relevant_hit_before_any_other_modality():
    assert above_other_modalities(run(ranks=(1,), other=2))
    assert not above_other_modalities(run(ranks=(3,), other=1))
    assert above_other_modalities(run(ranks=(3,), other=None))
    assert not above_other_modalities(run(ranks=(), other=None))


def test_best_cut_separates_absent_from_right_answers_when_it_can():
    runs = [run(ranks=(1,), scores=(s,), id=f"r{s}") for s in (0.5, 0.6, 0.8)]
    runs += [run(n=0, kind="absent", scores=(s,), id=f"a{s}") for s in (0.2, 0.3, 0.4)]
    best = best_cut(runs)
    assert 0.4 < best.cut <= 0.5
    assert best.false_alarm == 0.0 and best.false_abstention == 0.0


def test_best_cut_trades_off_when_scores_overlap():
    runs = [run(ranks=(1,), scores=(0.3,), id="r1"), run(ranks=(1,), scores=(0.9,), id="r2")]
    runs += [run(n=0, kind="absent", scores=(s,), id=f"a{s}") for s in (0.4, 0.5, 0.6, 0.7)]
    best = best_cut(runs)
    # Cutting above 0.7 loses r1 (abstention 1/2) but stops every alarm; cheaper than any lower cut.
    assert 0.7 < best.cut <= 0.9
    assert best.false_alarm == 0.0 and best.false_abstention == pytest.approx(0.5)


def test_wrong_shown_is_a_wrong_file_at_the_cut_in_the_top_ten() -> None:
    from mmsearch.eval.metrics import wrong_shown

    beside = run(ranks=[1], scores=[0.9, 0.8, 0.3])  # the right one first, a neighbour "matching" too
    clean = run(ranks=[1], scores=[0.9, 0.4, 0.3])
    below = run(ranks=list(range(1, 11)), n=10, scores=[0.6] * 10 + [0.7])  # only right files in the top 10
    assert wrong_shown(beside, 0.5) and not wrong_shown(beside, 0.85)
    assert not wrong_shown(clean, 0.5) and not wrong_shown(below, 0.5)
    assert summarise([beside, clean], 0.5).wrong_shown == 0.5
