"""Late fusion: combine per-leg media scores into one ranking. Fusers are registered by plugins."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class LegScores:
    """One leg's result, aggregated per media: ``scores`` maps media id to a score in [0, 1],
    ordered best first (the order is the leg's ranking)."""

    name: str
    weight: float
    scores: Mapping[int, float] = field(default_factory=dict)


class Fuser(ABC):
    """Combines legs into one score per media. Negative leg weights push media down."""

    name: ClassVar[str]

    @abstractmethod
    def fuse(self, legs: Sequence[LegScores]) -> dict[int, float]:
        """Return a fused score for every media that any leg found."""


class WeightedSum(Fuser):
    """Σ weight·score over the legs, divided by the sum of positive weights."""

    name = "weighted"

    def fuse(self, legs: Sequence[LegScores]) -> dict[int, float]:
        total = sum(leg.weight for leg in legs if leg.weight > 0) or 1.0
        fused: dict[int, float] = {}
        for leg in legs:
            for media_id, score in leg.scores.items():
                fused[media_id] = fused.get(media_id, 0.0) + leg.weight * score / total
        return fused


class ReciprocalRankFusion(Fuser):
    """Σ weight / (k + rank), rank counted from 1 in each leg (Cormack et al., k = 60)."""

    name = "rrf"

    def __init__(self, k: int = 60) -> None:
        self.k = k

    def fuse(self, legs: Sequence[LegScores]) -> dict[int, float]:
        fused: dict[int, float] = {}
        for leg in legs:
            ranked = sorted(leg.scores.items(), key=lambda item: -item[1])
            for rank, (media_id, _score) in enumerate(ranked, start=1):
                fused[media_id] = fused.get(media_id, 0.0) + leg.weight / (self.k + rank)
        return fused
