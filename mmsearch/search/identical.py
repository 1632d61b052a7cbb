"""The example file itself, when it is in the library: a certain match whatever the model says.

An embedder can score a file against its own copy well under the cut: the lite space's example
vectors compare projections at a fixed scale, and among near-identical pictures (screenshots,
flat colours) z stays small, so an exact copy came back as "No matches." Content hashes say
what no cosine can: these bytes are indexed. Candidates are narrowed by size first, so the example
is hashed only when the library holds a file of exactly its size. The same picture in other bytes
(an export, a resize) is found by its fingerprint (``mmsearch/fingerprint.py``), and for images
indexed before fingerprints by an indexed vector equal to the example's.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import numpy as np
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from ..embedder import Embedder
from ..fingerprint import META_KEY, fingerprint, is_fingerprint, same_picture
from ..indexing.scan import file_hash
from ..plugins import Registry
from ..store.models import Media
from ..store.models import Segment as SegmentRow
from ..types import IMAGE, Source
from ..vectors.cache import SpaceIndexes

#: The evidence kind of an identical-file match.
IDENTICAL = "identical file"
#: The evidence kind of a file holding the example's very picture in other bytes (a PNG and its
#: JPEG export): a probe found such copies at 0.30, under the cut, beside the example's own 1.0.
SAME_PICTURE = "same picture"
#: Cosine of two *indexed* vectors at and above which they are one picture: a PNG saved again gives
#: 0.999 in lite, a 10 % crop 0.988, another photo of the same cat far less. A JPEG export often falls
#: under it (the fingerprint finds those); this catches copies indexed before fingerprints were stored.
SAME_PICTURE_COSINE = 0.995


def identical_media(db: SqlEngine, example: str, condition: ColumnElement[bool]) -> list[int]:
    """Ids of indexed media (allowed by ``condition``) whose content is byte for byte ``example``'s."""
    try:
        size = Path(example).stat().st_size
    except OSError:
        return []
    with db.connect() as conn:
        rows = conn.execute(select(Media.id, Media.content_hash).where(condition, Media.size == size)).all()
    if not rows:
        return []
    try:
        digest = file_hash(Path(example))
    except OSError:
        return []
    return sorted(media_id for media_id, content_hash in rows if content_hash == digest)


def same_picture_segments(example: str, embedder: Embedder, registry: Registry, space: SpaceIndexes,
                          allowed: np.ndarray | None, db: SqlEngine | None = None) -> list[int]:
    """Indexed image segments of ``space`` that are the example's picture: by fingerprint (when
    ``db`` is given), or embedded as an indexed image is (an example is embedded as a query, which
    in an asymmetric space is another vector) at SAME_PICTURE_COSINE. Only for modalities read whole
    (an image, a document's pages), from their first pictures."""
    path = Path(example)
    modality = registry.modality_for(path)
    index = space.by_kind.get(IMAGE)
    if modality is None or modality.streaming or IMAGE not in modality.kinds or not embedder.accepts(IMAGE) or index is None or not len(index):
        return []
    source = Source(path=path, relpath=path.name, size=path.stat().st_size)
    segments = [s for s in islice(modality.segments(source), 4) if s.kind == IMAGE]
    if not segments:
        return []
    pictures = [s.payload for s in segments]
    scores, ids = index.search(embedder.embed(IMAGE, pictures), min(8, len(index)), allowed)
    found = {int(i) for row_s, row_i in zip(scores, ids) for c, i in zip(row_s, row_i) if i >= 0 and c >= SAME_PICTURE_COSINE}
    if db is not None:
        prints = [p for s in segments if (p := (s.meta or {}).get(META_KEY) or _fingerprint(s.payload))]
        found |= set(_fingerprinted(db, prints, index.ids(), allowed))
    return sorted(found)


def _fingerprint(payload: object) -> str | None:
    try:
        return fingerprint(payload)  # type: ignore[arg-type]
    except (TypeError, ValueError, AttributeError):  # a plugin's image payload that is not a PIL image
        return None


def _fingerprinted(db: SqlEngine, prints: list[str], in_space: np.ndarray, allowed: np.ndarray | None) -> list[int]:
    """Image segments whose stored fingerprint is one of ``prints``' pictures, among ``in_space``
    (and ``allowed``)."""
    if not prints:
        return []
    stored = SegmentRow.meta[META_KEY].as_string()
    with db.connect() as conn:
        rows = [(int(i), p) for i, p in conn.execute(select(SegmentRow.id, stored).where(SegmentRow.kind == IMAGE, stored.is_not(None)))
                if is_fingerprint(p)]
    if not rows:
        return []
    ids = np.fromiter((i for i, _ in rows), dtype=np.int64, count=len(rows))
    keep = np.isin(ids, in_space) & (np.isin(ids, allowed) if allowed is not None else True)
    match = same_picture(prints, [p for _, p in rows]) & keep
    return [int(i) for i in ids[match]]
