"""SQL writes of an indexing run: one transaction per batch, bulk inserts, FAISS updated after commit."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from ..errors import SpaceMismatchError
from ..store.models import Media, Root, SpaceRow, Vector
from ..store.models import Segment as SegmentRow
from ..vectors.cache import SpaceIndexes
from ..types import Segment
from .pipeline import Extracted
from .scan import Found, Known


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class ActiveSpace:
    row_id: int
    indexes: SpaceIndexes


@dataclass
class VectorDelta:
    """What a committed transaction changed, to apply to the in-memory FAISS indexes."""

    removed: list[int] = field(default_factory=list)
    added: dict[tuple[int, str], tuple[list[int], list[np.ndarray]]] = field(default_factory=dict)
    #: space row id -> (generation before, generation after) this transaction, read inside it.
    generations: dict[int, tuple[int, int]] = field(default_factory=dict)


def ensure_root(session: Session, path: str) -> int:
    root_id = session.scalar(select(Root.id).where(Root.path == path))
    if root_id is None:
        root_id = session.scalar(insert(Root).values(path=path, added_at=now()).returning(Root.id))
    return int(root_id)


_IN_CHUNK = 900  # stay under old SQLite builds' 999 bound parameters per statement


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _IN_CHUNK] for i in range(0, len(ids), _IN_CHUNK)]


def _delete_segments_of(session: Session, media_ids: Sequence[int]) -> list[int]:
    """Delete the segments (and their vectors) of ``media_ids``; returns the segment ids gone.

    Explicit deletes rather than ON DELETE CASCADE: SQLite enforces cascades only per connection pragma.
    """
    removed: list[int] = []
    for chunk in _chunks(media_ids):
        removed.extend(session.scalars(select(SegmentRow.id).where(SegmentRow.media_id.in_(chunk))))
    for chunk in _chunks(removed):
        session.execute(delete(Vector).where(Vector.segment_id.in_(chunk)))
        session.execute(delete(SegmentRow).where(SegmentRow.id.in_(chunk)))
    return removed


def write_extracted(session: Session, batch: list[Extracted], spaces: Sequence[ActiveSpace]) -> VectorDelta:
    delta = VectorDelta()
    stamp = now()
    old_ids = [item.job.old.media_id for item in batch if item.job.old is not None]
    delta.removed = _delete_segments_of(session, old_ids)
    for item in batch:
        if item.vanished:  # deleted or moved away mid-run: forget it (a move is found as new next run)
            if item.job.old is not None:
                session.execute(delete(Media).where(Media.id == item.job.old.media_id))
            continue
        media_id = _upsert_media(session, item, stamp)
        if item.error is None and item.segments:
            _insert_segments(session, media_id, item, spaces, delta)
    _bump(session, spaces, delta)
    return delta


def _upsert_media(session: Session, item: Extracted, stamp: datetime) -> int:
    found = item.job.found
    meta = media_meta(item.segments) if item.error is None else {}
    values = {
        "size": found.size,
        "mtime_ns": found.mtime_ns,
        "ctime_ns": found.ctime_ns,
        "content_hash": item.content_hash,
        "mime": mimetypes.guess_type(found.path.name)[0],
        "modality": item.job.modality.name,
        "status": "failed" if item.error else "indexed",
        "error": item.error,
        "indexed_at": stamp,
        **meta,
    }
    if item.job.old is not None:
        session.execute(update(Media).where(Media.id == item.job.old.media_id).values(**values))
        return item.job.old.media_id
    return int(
        session.scalar(
            insert(Media)
            .values(root_id=found.root_id, relpath=found.relpath, created_at=stamp, **values)
            .returning(Media.id)
        )
    )


#: Segment meta keys that describe the whole media (the first segment carrying one wins), and
#: the longest text kept for each.
MEDIA_META = {"title": 1024, "author": 1024}


def media_meta(segments: Sequence[Segment]) -> dict[str, object]:
    """Media columns from segment meta: ``taken`` (ISO date: a photo's capture date, a PDF's
    creation date) for date filters, ``title`` and ``author`` for the title:/author: filters."""
    found: dict[str, object] = {"taken_at": None, **dict.fromkeys(MEDIA_META)}
    for seg in segments:
        raw_taken = seg.meta.get("taken")
        if found["taken_at"] is None and raw_taken:
            try:
                found["taken_at"] = datetime.fromisoformat(str(raw_taken)).replace(tzinfo=None)
            except ValueError:
                pass
        for key, limit in MEDIA_META.items():
            value = seg.meta.get(key)
            if found[key] is None and isinstance(value, str) and _no_nul(value).strip():
                found[key] = " ".join(_no_nul(value).split())[:limit]
    return found


def _no_nul(text: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL (SQLite can): a plugin's text with one failed its file there."""
    return text.replace("\x00", "") if text else text


def _segment_meta(seg: Segment) -> dict[str, object] | None:
    # The locator's box has no column of its own: it travels in meta, read back by aggregate.py.
    meta = {k: _no_nul(v) if isinstance(v, str) else v for k, v in seg.meta.items()}
    if seg.locator.box is not None:
        meta["box"] = list(seg.locator.box)
    return meta or None


def _insert_segments(session: Session, media_id: int, item: Extracted, spaces: Sequence[ActiveSpace], delta: VectorDelta) -> None:
    rows = [
        {
            "media_id": media_id,
            "ordinal": i,
            "kind": seg.kind,
            "t_start": seg.locator.start,
            "t_end": seg.locator.end,
            "char_start": seg.locator.char_start,
            "char_end": seg.locator.char_end,
            "page": seg.locator.page,
            "text": _no_nul(seg.text),
            "meta": _segment_meta(seg),
        }
        for i, seg in enumerate(item.segments)
    ]
    ids = list(session.scalars(insert(SegmentRow).returning(SegmentRow.id, sort_by_parameter_order=True), rows))
    vector_rows = []
    for e, space in enumerate(spaces):
        for i, vector in item.vectors[e].items():
            if vector.shape != (space.indexes.dim,):  # an embedder whose dim changed after the space was made
                raise SpaceMismatchError(
                    f"the embedder of space {space.row_id} now returns {vector.shape[-1] if vector.ndim else 0}-d vectors, but this "
                    f"index holds {space.indexes.dim}-d ones; nothing was written. Set the model back, or build a new index with another --index")
            vector_rows.append({"segment_id": ids[i], "space_id": space.row_id, "vector": vector.tobytes()})
            seg_ids, vectors = delta.added.setdefault((e, item.segments[i].kind), ([], []))
            seg_ids.append(ids[i])
            vectors.append(vector)
    if vector_rows:
        session.execute(insert(Vector), vector_rows)


def _bump(session: Session, spaces: Sequence[ActiveSpace], delta: VectorDelta) -> None:
    """Advance each space's generation and note the value this transaction produced.

    Read from the UPDATE itself (RETURNING), which holds the row's write lock: a generation read
    after commit may already include another process's writes, and a cache stamped with it
    would claim vectors it never received.
    """
    if not delta.removed and not delta.added:
        return
    for space in spaces:
        after = session.scalar(
            update(SpaceRow).where(SpaceRow.id == space.row_id).values(generation=SpaceRow.generation + 1).returning(SpaceRow.generation)
        )
        delta.generations[space.row_id] = (int(after) - 1, int(after))


def apply_delta(session: Session, spaces: Sequence[ActiveSpace], delta: VectorDelta) -> None:
    """After commit: mirror the change into FAISS, or rebuild it from SQL when another process
    committed since the cache's generation (``session`` is unused; kept for callers)."""
    removed = np.asarray(delta.removed, dtype=np.int64)
    for e, space in enumerate(spaces):
        if space.row_id not in delta.generations:
            continue  # nothing changed
        before, after = delta.generations[space.row_id]
        added = [
            (kind, np.asarray(ids, dtype=np.int64), np.stack(vectors))
            for (index, kind), (ids, vectors) in delta.added.items()
            if index == e
        ]
        space.indexes.apply(before, after, removed, added)


def remove_media(session: Session, media: Sequence[Known], spaces: Sequence[ActiveSpace]) -> VectorDelta:
    delta = VectorDelta()
    ids = [m.media_id for m in media]
    delta.removed = _delete_segments_of(session, ids)
    for chunk in _chunks(ids):
        session.execute(delete(Media).where(Media.id.in_(chunk)))
    _bump(session, spaces, delta)
    return delta


def move_media(session: Session, moves: Sequence[tuple[Found, Known]]) -> None:
    for found, old in moves:
        session.execute(
            update(Media)
            .where(Media.id == old.media_id)
            # indexed_at: when it was last seen where it is, which an emptied folder is compared with
            .values(root_id=found.root_id, relpath=found.relpath, size=found.size, mtime_ns=found.mtime_ns, ctime_ns=found.ctime_ns,
                    indexed_at=now())
        )
