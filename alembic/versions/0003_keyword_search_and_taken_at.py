"""Keyword search over segment text and file names, and the capture date of a media.

SQLite: two external-content FTS5 tables (``segments_fts`` over ``segments.text``, ``media_fts``
over ``media.relpath``) kept in sync by triggers, so every write path (indexing, moves, removes,
cascades) updates them without application code. PostgreSQL: GIN indexes on the ``to_tsvector``
expressions the keyword leg queries (``mmsearch/search/keyword.py`` must use the same expressions).

``media.taken_at``: the EXIF capture date when a modality reports one (``meta["taken"]``); the
date filters fall back to the file's mtime when it is NULL.

Beware (SQLite): a later migration that *recreates* ``segments`` or ``media`` (batch mode with a
change SQLite cannot ALTER) drops these triggers; it must recreate them (call ``_sqlite_triggers``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The tokenizer: Porter stemming ("cooking" finds "cook") over Unicode words; '/', '.', '_' and
# '-' separate words, so "photos/golden_retriever.jpg" indexes photos, golden, retriever, jpg.
TOKENIZE = "porter unicode61 remove_diacritics 2"

PG_SEGMENT_TSV = "to_tsvector('english', coalesce(text, ''))"
PG_MEDIA_TSV = "to_tsvector('english', translate(relpath, '/._-', '    '))"


def _sqlite_triggers() -> list[str]:
    return [
        "CREATE TRIGGER segments_fts_ai AFTER INSERT ON segments WHEN new.text IS NOT NULL BEGIN "
        "INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text); END",
        "CREATE TRIGGER segments_fts_ad AFTER DELETE ON segments WHEN old.text IS NOT NULL BEGIN "
        "INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
        "CREATE TRIGGER segments_fts_au AFTER UPDATE OF text ON segments BEGIN "
        "INSERT INTO segments_fts(segments_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.text IS NOT NULL; "
        "INSERT INTO segments_fts(rowid, text) SELECT new.id, new.text WHERE new.text IS NOT NULL; END",
        "CREATE TRIGGER media_fts_ai AFTER INSERT ON media BEGIN "
        "INSERT INTO media_fts(rowid, relpath) VALUES (new.id, new.relpath); END",
        "CREATE TRIGGER media_fts_ad AFTER DELETE ON media BEGIN "
        "INSERT INTO media_fts(media_fts, rowid, relpath) VALUES ('delete', old.id, old.relpath); END",
        "CREATE TRIGGER media_fts_au AFTER UPDATE OF relpath ON media BEGIN "
        "INSERT INTO media_fts(media_fts, rowid, relpath) VALUES ('delete', old.id, old.relpath); "
        "INSERT INTO media_fts(rowid, relpath) VALUES (new.id, new.relpath); END",
    ]


def upgrade() -> None:
    # Plain ADD COLUMN (not batch): recreating ``media`` would also drop the triggers below.
    op.add_column("media", sa.Column("taken_at", sa.DateTime(), nullable=True))
    op.create_index(op.f("ix_media_taken_at"), "media", ["taken_at"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(f"CREATE VIRTUAL TABLE segments_fts USING fts5(text, content='segments', content_rowid='id', tokenize='{TOKENIZE}')")
        op.execute(f"CREATE VIRTUAL TABLE media_fts USING fts5(relpath, content='media', content_rowid='id', tokenize='{TOKENIZE}')")
        for statement in _sqlite_triggers():
            op.execute(statement)
        # An index written by 0002 already holds rows: index them now.
        op.execute("INSERT INTO segments_fts(rowid, text) SELECT id, text FROM segments WHERE text IS NOT NULL")
        op.execute("INSERT INTO media_fts(media_fts) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute(f"CREATE INDEX ix_segments_text_fts ON segments USING gin ({PG_SEGMENT_TSV})")
        op.execute(f"CREATE INDEX ix_media_relpath_fts ON media USING gin ({PG_MEDIA_TSV})")
    # Other databases: the keyword leg is skipped (keyword.py checks the dialect).


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("segments_fts_ai", "segments_fts_ad", "segments_fts_au", "media_fts_ai", "media_fts_ad", "media_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS segments_fts")
        op.execute("DROP TABLE IF EXISTS media_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_segments_text_fts")
        op.execute("DROP INDEX IF EXISTS ix_media_relpath_fts")
    op.drop_index(op.f("ix_media_taken_at"), table_name="media")
    with op.batch_alter_table("media") as batch:
        batch.drop_column("taken_at")
