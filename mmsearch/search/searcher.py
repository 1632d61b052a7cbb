"""Runs a Query: legs → calibrated segment hits → per-media aggregation → fusion → Hits."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path

import numpy as np
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..embedder import Embedder
from ..errors import QueryError
from ..plugins import Registry
from ..store.models import Media, Root
from ..store.models import Segment as SegmentRow
from ..types import Evidence, Hit, Locator
from ..vectors.cache import SpaceIndexes
from .bank import QueryBank
from .calibrate import Background
from .fusion import Fuser, LegScores
from .legs import SegmentHit, query_vector, run_leg, spaces_for
from .query import Filters, Query

EVIDENCE_PER_HIT = 3


class Searcher:
    def __init__(self, db: SqlEngine, registry: Registry, embedders: Sequence[Embedder], spaces: Sequence[SpaceIndexes], index_dir: Path) -> None:
        self.db = db
        self.registry = registry
        self.embedders = embedders
        self.spaces = spaces
        self.background = Background()
        self.bank = QueryBank(index_dir)

    def search(self, query: Query, k: int = 10, offset: int = 0, min_score: float = 0.0, fuser: str = "weighted") -> list[Hit]:
        if k < 1 or offset < 0:
            raise QueryError("k must be at least 1 and offset at least 0")
        chosen: Fuser = self._fuser(fuser)
        allowed = self._prefilter(query.filters)
        if allowed is not None and len(allowed) == 0:
            return []
        per_leg = max(50, (k + offset) * 5)  # segments per leg, enough to fill k media after grouping
        legs: list[LegScores] = []
        seg_hits: dict[int, list[SegmentHit]] = {}
        for part in query.parts:
            serving = spaces_for(part, self.embedders)
            vectors = [(i, query_vector(part, self.embedders[i], self.registry)) for i in serving]
            vectors = [(i, v) for i, v in vectors if v is not None]
            if not vectors:
                raise QueryError(f"no embedding space of this index can take {part.label}")
            for i, vector in vectors:
                name = f"{part.label}@{self.embedders[i].name}"
                bank = self.bank.vectors(self.spaces[i].space_id, self.embedders[i], part.kind)
                hits = run_leg(name, vector, self.spaces[i], (self.background, bank), per_leg, allowed)
                legs.append(self._per_media(name, part.weight / len(vectors), hits, seg_hits))
        fused = chosen.fuse(legs)
        ranked = sorted(((s, m) for m, s in fused.items() if s >= min_score), key=lambda sm: (-sm[0], sm[1]))
        page = ranked[offset : offset + k]
        return self._hits(page, legs, seg_hits)

    def _fuser(self, name: str) -> Fuser:
        entry = self.registry.fusers.get(name)
        if entry is None:
            raise QueryError(f"no fuser named {name!r}; available: {', '.join(sorted(self.registry.fusers))}")
        return entry.obj

    def _per_media(self, name: str, weight: float, hits: list[SegmentHit], seg_hits: dict[int, list[SegmentHit]]) -> LegScores:
        if not hits:
            return LegScores(name, weight, {})
        with Session(self.db) as session:
            owner = dict(session.execute(select(SegmentRow.id, SegmentRow.media_id).where(SegmentRow.id.in_([h.segment_id for h in hits]))).all())
        best: dict[int, float] = {}
        for hit in sorted(hits, key=lambda h: -h.score):
            media_id = owner.get(hit.segment_id)
            if media_id is None:
                continue
            best.setdefault(media_id, hit.score)
            seg_hits.setdefault(media_id, []).append(hit)
        return LegScores(name, weight, best)

    def _prefilter(self, filters: Filters) -> np.ndarray | None:
        """Segment ids the filters allow, found in SQL *before* the vector search."""
        if not filters.active:
            return None
        with Session(self.db) as session:
            query = select(Media.id, Media.relpath).where(Media.status == "indexed")
            if filters.types:
                query = query.where(Media.modality.in_(sorted(filters.types)))
            media = session.execute(query).all()
            if filters.path:
                media = [m for m in media if fnmatchcase(m.relpath, filters.path) or fnmatchcase(Path(m.relpath).name, filters.path)]
            ids: list[int] = []
            media_ids = [m.id for m in media]
            for start in range(0, len(media_ids), 900):
                chunk = media_ids[start : start + 900]
                ids.extend(session.scalars(select(SegmentRow.id).where(SegmentRow.media_id.in_(chunk))))
        return np.asarray(ids, dtype=np.int64)

    def _hits(self, page: list[tuple[float, int]], legs: list[LegScores], seg_hits: dict[int, list[SegmentHit]]) -> list[Hit]:
        if not page:
            return []
        media_ids = [m for _, m in page]
        evidence_ids = {m: sorted(seg_hits.get(m, []), key=lambda h: -h.score)[:EVIDENCE_PER_HIT] for m in media_ids}
        wanted = [h.segment_id for hs in evidence_ids.values() for h in hs]
        with Session(self.db) as session:
            media = {row.Media.id: row for row in session.execute(select(Media, Root.path).join(Root, Root.id == Media.root_id).where(Media.id.in_(media_ids)))}
            segments = {s.id: s for s in session.scalars(select(SegmentRow).where(SegmentRow.id.in_(wanted)))}
            out = []
            for score, media_id in page:
                row = media[media_id]
                evidence = tuple(_evidence(segments[h.segment_id], h) for h in evidence_ids[media_id] if h.segment_id in segments)
                leg_scores = {leg.name: leg.scores[media_id] for leg in legs if media_id in leg.scores}
                out.append(
                    Hit(media_id=media_id, path=row.Media.relpath, abspath=str(Path(row.path) / row.Media.relpath),
                        modality=row.Media.modality or "", score=float(score), evidence=evidence, legs=leg_scores)
                )
        return out


def _evidence(seg: SegmentRow, hit: SegmentHit) -> Evidence:
    locator = Locator(start=seg.t_start, end=seg.t_end, char_start=seg.char_start, char_end=seg.char_end, page=seg.page)
    return Evidence(segment_id=seg.id, kind=seg.kind, locator=locator, text=seg.text, leg=hit.leg, score=hit.score, raw_score=hit.raw)
