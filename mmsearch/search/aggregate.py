"""Segment hits → media: per-leg media scores, evidence per media, and the Hits of a page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from sqlalchemy import Engine, select

from ..paths import decode_relpath
from ..store.models import Media, Root
from ..store.models import Segment as SegmentRow
from ..types import Evidence, Hit, Locator
from .fusion import LegScores, noisy_or
from .keyword import NAME
from .legs import SegmentHit

EVIDENCE_SEGMENTS = 4  # the best segment and up to three more


def segment_owners(db: Engine, segment_ids: Iterable[int]) -> dict[int, int]:
    """segment id → media id, in one round trip."""
    wanted = sorted(set(segment_ids))
    owners: dict[int, int] = {}
    with db.connect() as conn:
        for start in range(0, len(wanted), 20_000):
            chunk = wanted[start : start + 20_000]
            owners.update((int(a), int(b)) for a, b in conn.execute(select(SegmentRow.id, SegmentRow.media_id).where(SegmentRow.id.in_(chunk))))
    return owners


def media_modalities(db: Engine, media_ids: Iterable[int]) -> dict[int, str]:
    """media id → its modality, in one round trip."""
    wanted = sorted(set(media_ids))
    with db.connect() as conn:
        return {int(m): str(k or "") for m, k in conn.execute(select(Media.id, Media.modality).where(Media.id.in_(wanted)))} if wanted else {}


def segments_of(db: Engine, media_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(media_ids))
    with db.connect() as conn:
        return list(conn.scalars(select(SegmentRow.id).where(SegmentRow.media_id.in_(wanted)))) if wanted else []


def per_media(name: str, weight: float, part: int, hits: Sequence[tuple[int, SegmentHit]]) -> LegScores:
    """One leg's media scores: the best segment of each kind, kinds joined by a noisy-OR (a video
    found by a frame and by its transcript scores at least as high as by either alone)."""
    best: dict[int, dict[str, float]] = {}
    for media_id, hit in hits:
        kinds = best.setdefault(media_id, {})
        kinds[hit.kind] = max(kinds.get(hit.kind, 0.0), hit.score)
    scores = {m: noisy_or(list(kinds.values())) for m, kinds in best.items()}
    return LegScores(name, weight, dict(sorted(scores.items(), key=lambda ms: (-ms[1], ms[0]))), part)


def choose_evidence(hits: Sequence[SegmentHit]) -> list[SegmentHit]:
    """Segments ordered by their best score (each with every leg that found it, in leg order),
    at most EVIDENCE_SEGMENTS of them; a file-name match comes last, as it has no locator."""
    by_segment: dict[int, list[SegmentHit]] = {}
    for hit in hits:
        by_segment.setdefault(hit.segment_id, []).append(hit)
    names = by_segment.pop(0, [])
    ranked = sorted(by_segment.items(), key=lambda kv: (-max(h.score for h in kv[1]), kv[0]))[:EVIDENCE_SEGMENTS]
    chosen = [h for _, group in ranked for h in _dedupe(group)]
    return chosen + sorted(names, key=lambda h: -h.score)[:1]


def _dedupe(group: list[SegmentHit]) -> list[SegmentHit]:
    seen: dict[str, SegmentHit] = {}
    for hit in group:  # group is in leg order; one entry per leg
        if hit.leg not in seen or hit.score > seen[hit.leg].score:
            seen[hit.leg] = hit
    return list(seen.values())


def build_hits(db: Engine, page: Sequence[tuple[float, int]], legs: Sequence[LegScores],
               evidence: Mapping[int, list[SegmentHit]]) -> list[Hit]:
    """Hits for one page only: two queries, whatever the page size."""
    if not page:
        return []
    media_ids = [m for _, m in page]
    chosen = {m: choose_evidence(evidence.get(m, [])) for m in media_ids}
    wanted = sorted({h.segment_id for hs in chosen.values() for h in hs if h.segment_id})
    with db.connect() as conn:
        rows = conn.execute(
            select(Media.id, Media.relpath, Media.modality, Root.path).join(Root, Root.id == Media.root_id).where(Media.id.in_(media_ids))
        )
        media = {r.id: r for r in rows}
        segments = {s.id: s for s in conn.execute(select(SegmentRow).where(SegmentRow.id.in_(wanted)))} if wanted else {}
    out = []
    for score, media_id in page:
        row = media.get(media_id)
        if row is None:  # removed by another process since the legs ran
            continue
        items = tuple(_evidence(h, segments.get(h.segment_id), row.relpath) for h in chosen[media_id])
        leg_scores = {leg.name: leg.scores[media_id] for leg in legs if media_id in leg.scores}
        out.append(Hit(media_id=media_id, path=row.relpath, abspath=str(Path(row.path) / decode_relpath(row.relpath)), modality=row.modality or "",
                       score=float(score), evidence=tuple(e for e in items if e is not None), legs=leg_scores))
    return out


def _evidence(hit: SegmentHit, seg: object | None, relpath: str) -> Evidence | None:
    if hit.segment_id == 0:
        return Evidence(segment_id=0, kind=hit.kind or NAME, locator=Locator(), text=relpath, leg=hit.leg, score=hit.score, raw_score=hit.raw)
    if seg is None:
        return None
    box = (seg.meta or {}).get("box")  # type: ignore[attr-defined]
    locator = Locator(start=seg.t_start, end=seg.t_end, char_start=seg.char_start, char_end=seg.char_end, page=seg.page,  # type: ignore[attr-defined]
                      box=tuple(box) if box and len(box) == 4 else None)
    return Evidence(segment_id=seg.id, kind=seg.kind, locator=locator, text=seg.text, leg=hit.leg, score=hit.score, raw_score=hit.raw)  # type: ignore[attr-defined]
