"""The evaluation report: overall, per modality and per absent kind, as a rich table or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .metrics import KS, BestCut, QueryRun, RankingSummary, best_cut, false_alarm_rate, summarise


@dataclass(frozen=True)
class QueryOutcome:
    """What one query did, for the JSON report (find the queries behind a bad number)."""

    id: str
    kind: str
    query: str
    modality: str
    top_path: str | None
    top_score: float | None
    right_rank: int | None  # rank of the first relevant hit with no cut; None if not in the ranking
    right_score: float | None
    other_rank: int | None = None  # rank of the first hit of another modality than the right file's


@dataclass(frozen=True)
class AbsentSummary:
    n: int
    false_alarm: float  # share whose best hit reaches the cut
    max_score: float | None  # the highest best-hit score among them (the cut that would stop all)


@dataclass(frozen=True)
class EvalReport:
    labelled_set: str
    k: int
    cut: float
    seconds: float
    overall: RankingSummary
    per_modality: dict[str, RankingSummary]
    absent: dict[str, AbsentSummary]  # per kind ("absent", "gibberish", ...) and "all"
    best: BestCut
    queries: tuple[QueryOutcome, ...]
    runs: tuple[QueryRun, ...] = field(default=(), repr=False)  # the uncut rankings, for :meth:`at`

    def at(self, cut: float) -> EvalReport:
        """The same report at another cut, without searching again (how to try a min_score)."""
        return build_report(self.labelled_set, self.runs, self.queries, cut=cut, k=self.k, seconds=self.seconds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "labelled_set": self.labelled_set,
            "k": self.k,
            "cut": self.cut,
            "seconds": round(self.seconds, 3),
            "overall": _summary_dict(self.overall),
            "per_modality": {m: _summary_dict(s) for m, s in self.per_modality.items()},
            "absent": {kind: _round(asdict(a)) for kind, a in self.absent.items()},
            "best_cut": {**_round(asdict(self.best)), "note": "fitted on this set: it flatters this set; check it on another"},
            "queries": [_round(asdict(q)) for q in self.queries],
        }


def _round(d: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def _summary_dict(s: RankingSummary) -> dict[str, Any]:
    out = _round({k: v for k, v in asdict(s).items() if k != "recall"})
    out.update({f"r@{k}": round(v, 4) for k, v in s.recall.items()})
    return out


def build_report(path: str, runs: Sequence[QueryRun], outcomes: Sequence[QueryOutcome], *, cut: float, k: int, seconds: float) -> EvalReport:
    modalities = sorted({r.modality for r in runs if not r.absent})
    per_modality = {m: summarise([r for r in runs if not r.absent and r.modality == m], cut) for m in modalities}
    absent_kinds = sorted({r.kind for r in runs if r.absent})
    absent = {kind: _absent([r for r in runs if r.absent and r.kind == kind], cut) for kind in absent_kinds}
    if len(absent_kinds) > 1:
        absent["all"] = _absent([r for r in runs if r.absent], cut)
    return EvalReport(path, k, cut, seconds, summarise(runs, cut), per_modality, absent, best_cut(runs), tuple(outcomes), tuple(runs))


def _absent(runs: Sequence[QueryRun], cut: float) -> AbsentSummary:
    tops = [r.top_score for r in runs if r.top_score is not None]
    return AbsentSummary(len(runs), false_alarm_rate(runs, cut) or 0.0, max(tops) if tops else None)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def render(report: EvalReport) -> list[Any]:
    """Rich renderables: the ranking table, the false-alarm table and the cut advice."""
    from rich.table import Table
    from rich.text import Text

    ranking = Table(title=f"Ranking on {Path(report.labelled_set).name} (no cut, top {report.k}) and abstention at cut {report.cut:g}")
    for name in ("modality", "queries", *(f"R@{k}" for k in KS), "MRR", "nDCG@10", "first right", "false abst.", "R@1 at cut", "wrong shown"):
        ranking.add_column(name, justify="left" if name == "modality" else "right")
    mixed = report.overall.above_other_modalities is not None
    if mixed:
        ranking.add_column("above other modalities", justify="right")
    if len(report.per_modality) > 1:
        rows = [*report.per_modality.items(), ("all", report.overall)]
    else:
        rows = [(f"all ({next(iter(report.per_modality), '-')})", report.overall)]
    for name, s in rows:
        cells = [name, str(s.n), *(f"{s.recall[k]:.3f}" for k in KS), f"{s.mrr:.3f}", f"{s.ndcg10:.3f}", str(s.first_right),
                 _pct(s.false_abstention), _pct(s.r1_at_cut), _pct(s.wrong_shown)]
        if mixed:
            cells.append(_pct(s.above_other_modalities))
        ranking.add_row(*cells, style="bold" if name.startswith("all") else None)
    out: list[Any] = [ranking]
    if report.absent:
        alarms = Table(title=f"Queries with no right answer: false alarms at cut {report.cut:g}")
        for name in ("kind", "queries", "false alarms", "highest best hit"):
            alarms.add_column(name, justify="left" if name == "kind" else "right")
        for kind, a in report.absent.items():
            alarms.add_row(kind, str(a.n), _pct(a.false_alarm), "–" if a.max_score is None else f"{a.max_score:.3f}",
                           style="bold" if kind == "all" else None)
        out.append(alarms)
    b = report.best
    out.append(Text(f"Best cut for this set: {b.cut:.3f} (false alarms {_pct(b.false_alarm)}, false abstentions "
                    f"{_pct(b.false_abstention)}). Fitted on this set, so it flatters it: check it on another set "
                    f"before setting search.min_score.  [{len(report.queries)} queries in {report.seconds:.1f} s]"))
    return out
