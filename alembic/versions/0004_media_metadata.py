"""Document metadata on media: ``title`` and ``author``, for the ``title:`` and ``author:`` filters.

A modality reports them as ``meta["title"]`` / ``meta["author"]`` on a segment (the PDF's document
information, an office document's core properties, an EPUB's Dublin Core); the writer copies the
first of each into these columns. A PDF's creation date goes to the existing ``taken_at`` through
``meta["taken"]``, so ``after:``/``before:`` filter documents as they filter photos.

No index: the filters match a substring case-insensitively, which no B-tree serves.

Plain ADD COLUMN (not a batch recreate): recreating ``media`` on SQLite would drop the FTS
triggers 0003 created (see its docstring).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("media", sa.Column("title", sa.String(1024), nullable=True))
    op.add_column("media", sa.Column("author", sa.String(1024), nullable=True))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # SQLite >= 3.35 drops a column in place, leaving 0003's triggers on media intact.
        op.execute("ALTER TABLE media DROP COLUMN author")
        op.execute("ALTER TABLE media DROP COLUMN title")
    else:
        op.drop_column("media", "author")
        op.drop_column("media", "title")
