"""Synthetic libraries written straight into SQL (media, segments with text, vectors), far faster
than indexing files: for benchmarks and large-index tests. The engine rebuilds FAISS from SQL on
the next search, exactly as after a crash."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import insert, select, update

from ..engine import Engine
from ..store.models import Media, Root, SpaceRow, Vector
from ..store.models import Segment as SegmentRow

#: (relpath, modality, [segment texts]) per media
MediaSpec = tuple[str, str, Sequence[str]]
Vectorize = Callable[[list[str]], np.ndarray]


def write_library(engine: Engine, root: str, media: Sequence[MediaSpec], vectorize: Vectorize, chunk: int = 5000) -> int:
    """Insert ``media`` under library ``root`` with one text segment per text, each segment's
    vector from ``vectorize`` (for every space of the engine). Returns the segment count."""
    stamp = datetime.now(UTC).replace(tzinfo=None)
    written = 0
    with engine.db.begin() as conn:
        root_id = conn.scalar(select(Root.id).where(Root.path == root)) or conn.scalar(
            insert(Root).values(path=root, added_at=stamp).returning(Root.id))
        for start in range(0, len(media), chunk):
            batch = media[start : start + chunk]
            rows = [{"root_id": root_id, "relpath": rel, "size": 1000 + i, "mtime_ns": 0, "content_hash": f"{start + i:064x}",
                     "mime": None, "modality": modality, "status": "indexed", "error": None, "created_at": stamp, "indexed_at": stamp}
                    for i, (rel, modality, _texts) in enumerate(batch)]
            ids = list(conn.scalars(insert(Media).returning(Media.id, sort_by_parameter_order=True), rows))
            seg_rows = [{"media_id": mid, "ordinal": o, "kind": "text", "t_start": None, "t_end": None, "char_start": 0,
                         "char_end": len(text), "page": None, "text": text, "meta": None}
                        for mid, (_rel, _mod, texts) in zip(ids, batch) for o, text in enumerate(texts)]
            seg_ids = list(conn.scalars(insert(SegmentRow).returning(SegmentRow.id, sort_by_parameter_order=True), seg_rows))
            vectors = vectorize([r["text"] for r in seg_rows]).astype(np.float32)
            for space in engine.spaces:
                conn.execute(insert(Vector), [{"segment_id": s, "space_id": space.row_id, "vector": v.tobytes()} for s, v in zip(seg_ids, vectors)])
            written += len(seg_ids)
        for space in engine.spaces:
            conn.execute(update(SpaceRow).where(SpaceRow.id == space.row_id).values(generation=SpaceRow.generation + 1))
    return written
