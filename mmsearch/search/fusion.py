"""Late fusion: combine per-leg media scores into one ranking. Fusers are registered by plugins.

A query *part* ("red car", ./ref.jpg, -night) runs several legs: one per embedding space and a
keyword leg. Legs of one part are alternative ways of finding the same thing, so the weighted
fuser first joins them with a noisy-OR (found by two legs scores at least as high as by either
alone), then takes the weighted sum over parts (parts are things the media should satisfy).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class LegScores:
    """One leg's result, aggregated per media: ``scores`` maps media id to a calibrated score in
    [0, 1], ordered best first (the order is the leg's ranking). ``weight`` is the weight of the
    query part the leg serves (negative: push down); ``part`` numbers that part."""

    name: str
    weight: float
    scores: Mapping[int, float] = field(default_factory=dict)
    part: int = 0


class Fuser(ABC):
    """Combines legs into one score per media. Negative leg weights push media down.

    ``name`` (required, unique) is what ``--fuser``/``search(fuser=...)`` selects. ``calibrated``
    says whether the fused scores are calibrated match scores in [0, 1] (0.5 = as likely a match
    as not): then the "no good match" cut (``search.min_score``) applies to them. Otherwise the
    fuser only orders the results and the cut applies to the built-in calibrated ``weighted`` score.
    """

    name: ClassVar[str]
    calibrated: ClassVar[bool] = False

    @abstractmethod
    def fuse(self, legs: Sequence[LegScores]) -> dict[int, float]:
        """Return a fused score for every media that any leg found."""


def noisy_or(scores: Sequence[float]) -> float:
    """1 − Π(1 − s): never below the best single score, higher when independent legs agree."""
    miss = 1.0
    for score in scores:
        miss *= 1.0 - min(max(score, 0.0), 1.0)
    return 1.0 - miss


class WeightedSum(Fuser):
    """Per part, the noisy-OR of its legs; then Σ weight·part score over parts divided by the sum
    of positive weights, clipped to [0, 1]. Stays a calibrated score: a media matching every
    positive part perfectly scores 1, a negative part subtracts."""

    name = "weighted"
    calibrated = True

    def fuse(self, legs: Sequence[LegScores]) -> dict[int, float]:
        parts: dict[int, list[LegScores]] = {}
        for leg in legs:
            parts.setdefault(leg.part, []).append(leg)
        weights = {p: group[0].weight for p, group in parts.items()}
        total = sum(w for w in weights.values() if w > 0) or 1.0
        fused: dict[int, float] = {}
        for p, group in parts.items():
            media = {m for leg in group for m in leg.scores}
            for media_id in media:
                part_score = noisy_or([leg.scores[media_id] for leg in group if media_id in leg.scores])
                fused[media_id] = fused.get(media_id, 0.0) + weights[p] * part_score / total
        return {m: min(max(s, 0.0), 1.0) for m, s in fused.items()}


class ReciprocalRankFusion(Fuser):
    """Σ weight / (k + rank) over legs, rank counted from 1 in each leg (Cormack et al., k = 60).

    Ignores score scales entirely; the "no good match" cut still uses calibrated scores."""

    name = "rrf"

    def __init__(self, k: int = 60) -> None:
        self.k = k

    def fuse(self, legs: Sequence[LegScores]) -> dict[int, float]:
        fused: dict[int, float] = {}
        for leg in legs:
            ranked = sorted(leg.scores.items(), key=lambda item: (-item[1], item[0]))
            for rank, (media_id, _score) in enumerate(ranked, start=1):
                fused[media_id] = fused.get(media_id, 0.0) + leg.weight / (self.k + rank)
        return fused
