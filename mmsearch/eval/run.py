"""Run a labelled set against an open engine: one uncut search per query, matched to its labels."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from ..errors import QueryError
from ..search.query import Query
from ..store.models import Media, Root
from ..types import Hit
from .labels import LabelError, LabelledQuery, LabelledSet, Relevant
from .metrics import QueryRun
from .report import EvalReport, QueryOutcome, build_report

if TYPE_CHECKING:
    from ..engine import Engine

#: Seconds a hit's time may fall outside a labelled range and still count (speech segment bounds
#: are not word-exact).
TIME_SLACK = 1.0
#: Uncut ranking depth: deep enough for R@10 and nDCG@10, and for seeing where a missed answer went.
DEPTH = 100

ProgressFn = Callable[[int, int], None]


def evaluate(engine: Engine, labelled: LabelledSet, *, cut: float, k: int = DEPTH, library: str | os.PathLike[str] | None = None,
             time_slack: float = TIME_SLACK, progress: ProgressFn | None = None) -> EvalReport:
    """Search every query with ``min_score=0`` and reduce each ranking to a :class:`QueryRun`;
    ``cut`` is the score threshold the cut-dependent numbers are reported at."""
    root = Path(library).expanduser().resolve() if library is not None else None
    for query in labelled.queries:  # refuse a bad line before a long run, not in the middle of it
        try:
            Query.parse(query.query)
        except QueryError as exc:
            raise LabelError(f"{labelled.path}:{query.line}: {exc}") from exc
    modalities = _relevant_modalities(engine, labelled, root)
    runs: list[QueryRun] = []
    outcomes: list[QueryOutcome] = []
    started = time.perf_counter()
    for done, query in enumerate(labelled.queries, start=1):
        hits = engine.search(query.query, k=max(k, 10), min_score=0.0)
        run = _reduce(query, hits, root, time_slack, modalities)
        runs.append(run)
        top = hits[0] if hits else None
        outcomes.append(QueryOutcome(query.id, query.kind, query.query, run.modality, top.path if top else None,
                                     top.score if top else None, min(run.relevant_ranks) if run.relevant_ranks else None,
                                     _score_at(run), run.other_rank))
        if progress is not None:
            progress(done, len(labelled.queries))
    seconds = time.perf_counter() - started
    return build_report(labelled.path, runs, outcomes, cut=cut, k=k, seconds=seconds)


def _score_at(run: QueryRun) -> float | None:
    return run.scores[min(run.relevant_ranks) - 1] if run.relevant_ranks else None


def _reduce(query: LabelledQuery, hits: Sequence[Hit], root: Path | None, slack: float, modalities: dict[str, str]) -> QueryRun:
    ranks: list[int] = []
    used: set[int] = set()
    for rank, hit in enumerate(hits, start=1):
        for j, rel in enumerate(query.relevant):
            if j not in used and _matches(hit, rel, root, slack):
                used.add(j)
                ranks.append(rank)
                break
    modality = modalities.get(query.relevant[0].path, "?") if query.relevant else query.kind
    other = next((r for r, h in enumerate(hits, start=1) if query.relevant and h.modality != modality), None)
    return QueryRun(query.id, query.kind, tuple(h.score for h in hits), tuple(ranks), len(query.relevant), modality, other)


def _matches(hit: Hit, rel: Relevant, root: Path | None, slack: float) -> bool:
    if root is not None:
        if Path(hit.abspath) != root / rel.path:
            return False
    elif hit.path != rel.path:
        return False
    if rel.t0 is not None and rel.t1 is not None:
        # The time the hit links to: its first evidence that has one (a file-name match has none).
        start = next((e.locator.start for e in hit.evidence if e.locator.start is not None), None)
        if start is None or not rel.t0 - slack <= start <= rel.t1 + slack:
            return False
    if rel.page is not None:
        return any(e.locator.page == rel.page for e in hit.evidence)
    return True


def _relevant_modalities(engine: Engine, labelled: LabelledSet, root: Path | None) -> dict[str, str]:
    """The modality of every relevant file, from the index; a relevant file the index does not
    hold is a labelling or indexing mistake, refused before any query runs."""
    wanted = {rel.path for q in labelled.queries for rel in q.relevant}
    absolute = {str(root / p): p for p in wanted} if root is not None else {}
    found: dict[str, str] = {}
    with engine.db.connect() as conn:
        for relpath, modality, root_path in conn.execute(select(Media.relpath, Media.modality, Root.path).join(Root, Root.id == Media.root_id)):
            # With a library folder, match by absolute path: it may have been indexed from a parent folder.
            key = absolute.get(str(Path(root_path) / relpath)) if root is not None else (relpath if relpath in wanted else None)
            if key is not None:
                found[key] = modality or "?"
    for q in labelled.queries:
        for rel in q.relevant:
            if rel.path not in found:
                where = f" under {root}" if root is not None else ""
                raise LabelError(f"{labelled.path}:{q.line}: relevant file {rel.path!r} is not in the index{where}; "
                                 "index the library folder first (mmsearch index DIR) or fix the path")
    return found
