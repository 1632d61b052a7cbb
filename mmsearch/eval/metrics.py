"""Ranking and cut metrics on evaluated queries: pure functions, no engine, no I/O.

A query is run once with no cut (``min_score=0``); every number that depends on the cut is then
derived from the scores, so trying another ``search.min_score`` costs nothing.

* R@k: the share of a query's relevant items found in its top k. MRR: 1 / rank of the first
  relevant hit (0 when none is in the ranking). nDCG@k: binary gains, log2 discount.
* False alarm at cut c: a query with no right answer whose best hit scores >= c (the user is shown
  something that is wrong).
* False abstention at cut c: a query whose right answer ranks first with no cut, yet scores < c
  (the engine had it and hid it). Its denominator is the queries whose right answer ranks first.
* Wrong shown at cut c: a query with right answers whose top 10 holds a wrong file scoring >= c
  (beside or above the right one: "invoice 48245" also showing invoice 48253 as a match).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

KS = (1, 5, 10)


@dataclass(frozen=True)
class QueryRun:
    """One query's ranking with no cut, reduced to what the metrics need."""

    id: str
    kind: str  # "query", or the kind of an absent query ("absent", "gibberish", ...)
    scores: tuple[float, ...]  # the hits' scores, best first
    relevant_ranks: tuple[int, ...] = ()  # 1-based ranks of hits that match a distinct relevant item
    n_relevant: int = 0
    modality: str = "?"  # modality of the (first) relevant file
    other_rank: int | None = None  # rank of the first hit of another modality than ``modality``

    @property
    def absent(self) -> bool:
        return self.n_relevant == 0

    @property
    def top_score(self) -> float | None:
        return self.scores[0] if self.scores else None

    @property
    def first_right(self) -> bool:
        return 1 in self.relevant_ranks


def recall_at(run: QueryRun, k: int) -> float:
    if run.n_relevant == 0:
        return 0.0
    return sum(1 for r in run.relevant_ranks if r <= k) / run.n_relevant


def reciprocal_rank(run: QueryRun) -> float:
    return 1.0 / min(run.relevant_ranks) if run.relevant_ranks else 0.0


def ndcg_at(run: QueryRun, k: int = 10) -> float:
    if run.n_relevant == 0:
        return 0.0
    dcg = sum(1.0 / math.log2(r + 1) for r in run.relevant_ranks if r <= k)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(run.n_relevant, k) + 1))
    return dcg / ideal


def false_alarm(run: QueryRun, cut: float) -> bool:
    return run.absent and run.top_score is not None and run.top_score >= cut


def false_abstention(run: QueryRun, cut: float) -> bool:
    return run.first_right and run.scores[0] < cut


def shown_right(run: QueryRun, cut: float) -> bool:
    """The right answer ranks first and survives the cut: what a user sees as a correct answer."""
    return run.first_right and run.scores[0] >= cut


def wrong_shown(run: QueryRun, cut: float, k: int = 10) -> bool:
    right = set(run.relevant_ranks)
    return any(score >= cut and rank not in right for rank, score in enumerate(run.scores[:k], start=1))


def above_other_modalities(run: QueryRun) -> bool:
    """The first relevant hit outranks every hit of another modality (e.g. the right image above
    all documents on neighbouring topics)."""
    if not run.relevant_ranks:
        return False
    return run.other_rank is None or min(run.relevant_ranks) < run.other_rank


def _rate(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


@dataclass(frozen=True)
class RankingSummary:
    """Averages over queries that have relevant files (ranking quality, and abstention at a cut)."""

    n: int
    recall: dict[int, float]
    mrr: float
    ndcg10: float
    first_right: int  # queries whose right answer ranks first with no cut
    false_abstention: float | None  # share of those hidden by the cut
    r1_at_cut: float  # share of all queries whose right answer is first and shown
    wrong_shown: float  # share of all queries showing a wrong file at the cut in their top 10
    above_other_modalities: float | None  # None when no ranking mixes modalities


def summarise(runs: Sequence[QueryRun], cut: float) -> RankingSummary:
    answered = [r for r in runs if not r.absent]
    n = len(answered)
    mean = (lambda xs: sum(xs) / n) if n else (lambda xs: 0.0)
    firsts = [r for r in answered if r.first_right]
    return RankingSummary(
        n=n,
        recall={k: mean([recall_at(r, k) for r in answered]) for k in KS},
        mrr=mean([reciprocal_rank(r) for r in answered]),
        ndcg10=mean([ndcg_at(r, 10) for r in answered]),
        first_right=len(firsts),
        false_abstention=_rate([false_abstention(r, cut) for r in firsts]),
        r1_at_cut=mean([float(shown_right(r, cut)) for r in answered]),
        wrong_shown=mean([float(wrong_shown(r, cut)) for r in answered]),
        above_other_modalities=_rate([above_other_modalities(r) for r in answered]) if any(r.other_rank is not None for r in answered) else None,
    )


def false_alarm_rate(runs: Sequence[QueryRun], cut: float) -> float | None:
    return _rate([false_alarm(r, cut) for r in runs if r.absent])


@dataclass(frozen=True)
class BestCut:
    """The cut minimising false-alarm rate + false-abstention rate on one set (fitted on that set)."""

    cut: float
    false_alarm: float | None
    false_abstention: float | None


def best_cut(runs: Sequence[QueryRun]) -> BestCut:
    """Tries a cut between every pair of neighbouring deciding scores; among equally good cuts,
    takes the middle one so the advice is not perched on one query's score."""
    deciding = sorted({r.top_score for r in runs if r.top_score is not None and (r.absent or r.first_right)})
    candidates = [0.0] + [(a + b) / 2 for a, b in pairwise(deciding)] + ([min(1.0, deciding[-1] + 1e-6)] if deciding else [])
    firsts = [r for r in runs if r.first_right]

    def cost(cut: float) -> float:
        fa = false_alarm_rate(runs, cut) or 0.0
        fab = _rate([false_abstention(r, cut) for r in firsts]) or 0.0
        return fa + fab

    costs = [cost(c) for c in candidates]
    lowest = min(costs)
    tied = [c for c, v in zip(candidates, costs) if v <= lowest + 1e-12]
    cut = float(median(tied)) if len(tied) % 2 else tied[len(tied) // 2]
    return BestCut(cut, false_alarm_rate(runs, cut), _rate([false_abstention(r, cut) for r in firsts]))
