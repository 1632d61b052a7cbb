"""Runs a Query: pre-filter → legs → calibrated segment hits → per-media aggregation → fusion → Hits."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select

from ..embedder import Embedder
from ..errors import QueryError
from ..plugins import Registry
from ..store.models import Segment as SegmentRow
from ..types import TEXT, Hit
from ..vectors.cache import SpaceIndexes
from . import intent, keyword, literals
from .aggregate import build_hits, media_modalities, per_media, segment_owners, segments_of
from .bank import QueryBank
from .calibrate import Background
from .curves import FALLBACK, Calibration, Curve, for_embedder
from .filters import allowed_segments, media_condition
from .fusion import Fuser, LegScores, WeightedSum
from .identical import IDENTICAL, SAME_PICTURE, identical_media, same_picture_segments
from .language import reads
from .legs import UNREAD_CAP, SegmentHit, query_vector, readable, run_leg, spaces_for
from .query import FILE, MAX_K, MAX_OFFSET, Query, QueryPart

#: The "no good match" cut on the calibrated score (setting ``search.min_score``). Fitted, not
#: chosen: each shipped curve's intercept puts the decision "is this best hit right?" at 0.5 with at
#: most 7 % of the fitting set's absent-answer queries above it (``eval/fit.py``); held-out figures
#: in mmsearch/eval/RESULTS.md.
DEFAULT_MIN_SCORE = 0.5
STAGES = ("filter", "encode", "vector", "keyword", "fusion", "metadata")
#: Segments each leg brings per result wanted: media have several segments, and fusion reorders.
PER_RESULT = 5
#: Results ranked on one candidate pool: every page within the first FIRST_DEPTH results comes from
#: the same pool, then pools double. An outside probe paged by k=10 through 100 results and got 93
#: distinct ones (the pool grew with every page, and items found by two legs moved in and out).
FIRST_DEPTH = 50


def depth(wanted: int) -> int:
    """The number of results the pool is built for: FIRST_DEPTH, doubled until it covers ``wanted``."""
    tier = FIRST_DEPTH
    while tier < wanted:
        tier *= 2
    return tier


class Searcher:
    def __init__(self, db: SqlEngine, registry: Registry, embedders: Sequence[Embedder], spaces: Sequence[SpaceIndexes], index_dir: Path) -> None:
        self.db = db
        self.registry = registry
        self.embedders = embedders
        self.spaces = spaces
        self.background = Background()
        self.bank = QueryBank(index_dir)
        # Fitted P(relevant) curves per space: the index directory's own (`mmsearch calibrate`),
        # else what the embedder ships; pairs with neither use curves.FALLBACK.
        self.calibrations: list[Calibration | None] = [
            for_embedder(index_dir, e.model, getattr(e, "calibration_file", None)) for e in embedders
        ]
        self.keyword = keyword.supported(db)
        self.timings: dict[str, float] = {}  # seconds per stage of the last search (for the benchmark)

    def search(self, query: Query, k: int = 10, offset: int = 0, min_score: float = DEFAULT_MIN_SCORE, fuser: str = "weighted") -> list[Hit]:
        if not 1 <= k <= MAX_K or not 0 <= offset <= MAX_OFFSET:  # a huge offset overflowed SQLite
            raise QueryError(f"k must be from 1 to {MAX_K} and offset from 0 to {MAX_OFFSET}; got k={k}, offset={offset}")
        chosen: Fuser = self._fuser(fuser)
        self.timings = dict.fromkeys(STAGES, 0.0)
        clock = time.perf_counter()
        allowed = allowed_segments(self.db, query.filters) if query.filters.active else None
        self._tick("filter", clock)
        if allowed is not None and len(allowed) == 0:
            return []
        per_leg = PER_RESULT * depth(k + offset)  # segments per leg, enough to fill k media after grouping
        condition = media_condition(query.filters, self.db.dialect.name)
        legs: list[LegScores] = []
        evidence: dict[int, list[SegmentHit]] = {}
        positive = [(p, part) for p, part in enumerate(query.parts) if part.weight > 0]
        negative = [(p, part) for p, part in enumerate(query.parts) if part.weight < 0]
        for p, part in positive:
            legs += self._legs(p, part, per_leg, allowed, condition, evidence)
        candidates = {m for leg in legs for m in leg.scores}
        if negative and candidates:
            # Score every candidate against the negative parts (not just their own top-k), so a
            # media just outside a negative leg's top-k is pushed down like one inside it.
            clock = time.perf_counter()
            inside = np.asarray(segments_of(self.db, candidates), dtype=np.int64)
            if allowed is not None:
                inside = np.intersect1d(inside, allowed)
            self._tick("filter", clock)
            for p, part in negative:
                legs += self._legs(p, part, max(len(inside), 1), inside, condition, None, candidates)
        clock = time.perf_counter()
        fused = chosen.fuse(legs)
        # The "no good match" cut needs a calibrated score: the fuser's own when it declares it
        # calibrated, else the built-in weighted score (an uncalibrated fuser only orders).
        gate = fused if chosen.calibrated else WeightedSum().fuse(legs)
        ranked = sorted(((fused.get(m, 0.0), m) for m in candidates if gate.get(m, 0.0) >= min_score), key=lambda sm: (-sm[0], sm[1]))
        wanted = frozenset().union(*(intent.asked_for(part.value) for _, part in positive if part.kind == TEXT))
        if wanted and ranked:  # "a photo of …": photos that match first, each group in score order (intent.py)
            kinds = media_modalities(self.db, [m for _, m in ranked])
            ranked.sort(key=lambda sm: not (kinds.get(sm[1]) in wanted and sm[0] >= intent.FLOOR))
        page = ranked[offset : offset + k]
        self._tick("fusion", clock)
        clock = time.perf_counter()
        hits = build_hits(self.db, page, legs, evidence)
        self._tick("metadata", clock)
        return hits

    def _legs(self, p: int, part: QueryPart, k: int, allowed: np.ndarray | None, condition: object,
              evidence: dict[int, list[SegmentHit]] | None, only: set[int] | None = None) -> list[LegScores]:
        """The vector legs (one per space that takes the part) and, for text, the keyword leg."""
        clock = time.perf_counter()
        label = part.label
        if part.kind == TEXT:  # "a photo of a rocket" is searched as "a rocket" (intent.py)
            part = replace(part, value=intent.subject(part.value))
        serving = spaces_for(part, self.embedders)
        vectors = [(i, *made) for i in serving if (made := query_vector(part, self.embedders[i], self.registry)) is not None]
        self._tick("encode", clock)
        if not vectors:
            raise QueryError(f"no embedding space of this index can take {label}")
        clock = time.perf_counter()
        held = literals.evidence(self.db, part.value) if part.kind == TEXT and self.keyword else None
        extra = self._holders_segments(held, allowed) if held is not None and only is None else None
        found: list[tuple[str, list[SegmentHit]]] = []
        space_of: dict[str, int] = {}
        for i, vector, query_kind in vectors:
            name = f"{label}@{self.embedders[i].name}"
            space_of[name] = i
            found.append((name, self._vector_leg(name, i, vector, query_kind, part, k, allowed, extra)))
        owners = segment_owners(self.db, (h.segment_id for _, hits in found for h in hits))
        self._tick("vector", clock)
        out = []
        for name, hits in found:
            owned = [(owners[h.segment_id], h) for h in hits if h.segment_id in owners]
            if held is not None:
                # names and amounts lift near-copies of the best hit only (the siblings need the hits' vectors)
                leaders = held.contest(self._siblings(space_of[name], owned)) if held.soft_held else frozenset()
                owned = [(m, replace(h, score=held.weigh(m, h.score, soft=bool(leaders), lift=m in leaders)) if h.kind == TEXT else h)
                         for m, h in owned]
            out.append(self._collect(name, part, p, owned, evidence))
        if part.kind == FILE:  # the example itself, if indexed: certain, whatever the model says
            name = f"{label}@identical"
            same = [m for m in identical_media(self.db, part.value, condition) if only is None or m in only]  # type: ignore[arg-type]
            certain = [(m, SegmentHit(0, f"{name}/file", 1.0, 1.0, IDENTICAL)) for m in same]
            # and its picture in other bytes (an export, a re-save): as certain
            pictures = [seg for i, *_ in vectors for seg in same_picture_segments(part.value, self.embedders[i], self.registry, self.spaces[i], allowed, self.db)]
            picture_owners = segment_owners(self.db, pictures)
            certain += [(m, SegmentHit(0, f"{name}/picture", 1.0, 1.0, SAME_PICTURE)) for m in sorted(set(picture_owners.values()))
                        if m not in same and (only is None or m in only)]
            if certain:
                out.append(self._collect(name, part, p, certain, evidence))
        if part.kind == TEXT and self.keyword:
            clock = time.perf_counter()
            name = f"{label}@keyword"
            kw = keyword.search(self.db, part.value, condition, k if only is None else max(k, len(only)))  # type: ignore[arg-type]
            owned = [(h.media_id, SegmentHit(0 if h.kind == keyword.NAME else h.row_id, f"{name}/{h.kind}", h.raw,
                                             h.score if held is None or h.kind == keyword.NAME else held.weigh(h.media_id, h.score, boost=False), h.kind))
                     for h in kw if only is None or h.media_id in only]
            out.append(self._collect(name, part, p, owned, evidence))
            self._tick("keyword", clock)
        return out

    def _vector_leg(self, name: str, i: int, vector: np.ndarray, query_kind: str, part: QueryPart, k: int,
                    allowed: np.ndarray | None, extra: np.ndarray | None) -> list[SegmentHit]:
        """Space ``i``'s hits for ``part``: its top ``k``, plus the segments in ``extra`` it missed."""
        space_id, embedder = self.spaces[i].space_id, self.embedders[i]
        calibration = (self.background, self.bank.vectors(space_id, embedder, query_kind), self.bank.null(space_id, embedder, query_kind))
        # An example's curve is that of its payload's kind ("image->image"); keyed by the part's
        # kind ("file->image") no curve was ever found and examples fell back to z alone.
        curves = self._curves(i, query_kind)
        hits = run_leg(name, vector, self.spaces[i], calibration, k, allowed, curves, query_kind)
        if extra is not None and len(extra):
            # The files holding a typed identifier are scored even when the model ranks them past
            # the leg's top k (in a large library of near-identical records it may).
            unseen = np.setdiff1d(extra, np.fromiter((h.segment_id for h in hits), dtype=np.int64))
            if len(unseen):
                hits += run_leg(name, vector, self.spaces[i], calibration, len(unseen), unseen, curves, query_kind)
        if part.kind == TEXT and not readable(part.value, embedder.scripts):
            hits = [replace(h, score=min(h.score, UNREAD_CAP)) for h in hits]
        elif part.kind == TEXT and not reads(part.value, embedder.languages):
            # A foreign query is trusted on texts the model reads ("sous vide steak" on a steak
            # recipe: 0.99), not on texts of a language it never learnt ("lettre de démission" on a
            # French crêpe recipe: 0.84). Pictures have no language: their scores stand.
            foreign = self._foreign_segments([h.segment_id for h in hits if h.kind == TEXT], embedder.languages)
            hits = [replace(h, score=min(h.score, UNREAD_CAP)) if h.segment_id in foreign else h for h in hits]
        return hits

    def _siblings(self, space: int, owned: Sequence[tuple[int, SegmentHit]]) -> frozenset[int]:
        """The media of the leg's best text hit and of the text hits whose vectors are within
        literals.SIBLING_COSINE of its (one template with other names or amounts)."""
        text = [(m, h) for m, h in owned if h.kind == TEXT]
        index = self.spaces[space].by_kind.get(TEXT)
        if not text or index is None:
            return frozenset()
        best = max(text, key=lambda mh: mh[1].score)
        ids = np.fromiter((h.segment_id for _, h in text), dtype=np.int64, count=len(text))
        vectors = index.vectors(ids)
        top = vectors[[h.segment_id for _, h in text].index(best[1].segment_id)]
        return frozenset(m for (m, _), c in zip(text, vectors @ top) if c >= literals.SIBLING_COSINE) | {best[0]}

    def _foreign_segments(self, segment_ids: Sequence[int], languages: frozenset[str] | None) -> set[int]:
        """Of these text segments, those almost surely written in a language outside ``languages``."""
        if not segment_ids:
            return set()
        with self.db.connect() as conn:
            rows = conn.execute(select(SegmentRow.id, SegmentRow.text).where(SegmentRow.id.in_(sorted(set(segment_ids)))))
            return {int(i) for i, text in rows if text and not reads(text, languages)}

    def _holders_segments(self, held: literals.LiteralEvidence, allowed: np.ndarray | None) -> np.ndarray | None:
        """The segments of the media holding a literal of the query, if few enough to score all."""
        media = set().union(*held.holders.values())
        if not media or len(media) > literals.MAX_HOLDERS:
            return None
        ids = np.asarray(segments_of(self.db, media), dtype=np.int64)
        return np.intersect1d(ids, allowed) if allowed is not None else ids

    @staticmethod
    def _collect(name: str, part: QueryPart, p: int, owned: list[tuple[int, SegmentHit]],
                 evidence: dict[int, list[SegmentHit]] | None) -> LegScores:
        if evidence is not None:
            for media_id, hit in owned:
                evidence.setdefault(media_id, []).append(hit)
        return per_media(name, part.weight, p, owned)

    def probe(self, text: str, k: int) -> list[tuple[int, str, list[int], np.ndarray]]:
        """The calibration features of a text query's top ``k`` segments, per (space, segment
        kind): what ``mmsearch calibrate`` fits curves on. Nothing is cut or fused."""
        part = QueryPart(kind=TEXT, value=text)
        out: list[tuple[int, str, list[int], np.ndarray]] = []
        for i in spaces_for(part, self.embedders):
            made = query_vector(part, self.embedders[i], self.registry)
            if made is None:
                continue
            vector = made[0]
            space_id, embedder = self.spaces[i].space_id, self.embedders[i]
            recorded: dict[str, np.ndarray] = {}

            def recorder(kind: str) -> Callable[[np.ndarray], np.ndarray]:
                def record(features: np.ndarray) -> np.ndarray:  # keeps the features, scores nothing
                    recorded[kind] = np.asarray(features)
                    return np.zeros(len(features))
                return record

            calibration = (self.background, self.bank.vectors(space_id, embedder, TEXT), self.bank.null(space_id, embedder, TEXT))
            hits = run_leg("probe", vector, self.spaces[i], calibration, k, None, recorder)
            for kind, features in recorded.items():
                out.append((i, kind, [h.segment_id for h in hits if h.kind == kind], features))
        return out

    def reload_calibrations(self, index_dir: Path) -> None:
        self.calibrations = [for_embedder(index_dir, e.model, getattr(e, "calibration_file", None)) for e in self.embedders]

    def _curves(self, space: int, query_kind: str) -> Callable[[str], Curve]:
        calibration = self.calibrations[space]

        def curve_for(segment_kind: str) -> Curve:
            fitted = calibration.curve(query_kind, segment_kind) if calibration is not None else None
            return fitted or FALLBACK

        return curve_for

    def _tick(self, stage: str, since: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - since

    def _fuser(self, name: str) -> Fuser:
        entry = self.registry.fusers.get(name)
        if entry is None:
            raise QueryError(f"no fuser named {name!r}; available: {', '.join(sorted(self.registry.fusers))}")
        return entry.obj
