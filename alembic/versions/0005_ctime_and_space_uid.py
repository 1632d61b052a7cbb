"""Change detection by inode change time, and an identity for each space's vector cache.

* ``media.ctime_ns``: the file's status-change time when it was indexed. An edit that keeps the
  size and puts the modification time back (``touch -r``, some sync tools) still moves it, so the
  file is hashed again instead of being called unchanged forever. NULL for rows written before
  (compared by size and mtime alone until the file is next indexed).
* ``spaces.uid``: a random id per space row. The vector cache files are stamped with it, so a
  cache written for another database (a second ``--db`` on the same index folder, a database
  deleted and created again) is rebuilt instead of answering from the wrong vectors: generations
  alone count up from 0 in every database and matched.

Plain ADD COLUMN (not a batch recreate): recreating ``media`` on SQLite would drop the FTS
triggers 0003 created.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("media", sa.Column("ctime_ns", sa.BigInteger(), nullable=True))
    op.add_column("spaces", sa.Column("uid", sa.String(32), nullable=True))
    bind = op.get_bind()
    for (space_id,) in bind.execute(sa.text("SELECT id FROM spaces")).fetchall():
        bind.execute(sa.text("UPDATE spaces SET uid = :uid WHERE id = :id"), {"uid": uuid.uuid4().hex, "id": space_id})


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # SQLite >= 3.35 drops a column in place, leaving 0003's triggers on media intact.
        op.execute("ALTER TABLE spaces DROP COLUMN uid")
        op.execute("ALTER TABLE media DROP COLUMN ctime_ns")
    else:
        op.drop_column("spaces", "uid")
        op.drop_column("media", "ctime_ns")
