"""The example file itself, when it is in the library: a certain match whatever the model says.

An embedder can score a file against its own copy well under the cut: the lite space's example
vectors compare projections at a fixed scale, and among near-identical pictures (screenshots,
flat colours) z stays small, so an exact copy came back as "No matches." Content hashes say
what no cosine can: these bytes are indexed. Candidates are narrowed by size first, so the example
is hashed only when the library holds a file of exactly its size.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from ..indexing.scan import file_hash
from ..store.models import Media

#: The evidence kind of an identical-file match.
IDENTICAL = "identical file"


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
