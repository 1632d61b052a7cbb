"""Library roots, media files and their segments.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "roots",
        sa.Column("id", Id, primary_key=True),
        sa.Column("path", sa.String(4096), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roots")),
        sa.UniqueConstraint("path", name=op.f("uq_roots_path")),
    )
    op.create_table(
        "media",
        sa.Column("id", Id, nullable=False),
        sa.Column("root_id", Id, nullable=False),
        sa.Column("relpath", sa.String(4096), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("mime", sa.String(255), nullable=True),
        sa.Column("modality", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["root_id"], ["roots.id"], name=op.f("fk_media_root_id_roots"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
        sa.UniqueConstraint("root_id", "relpath", name=op.f("uq_media_root_id")),
    )
    op.create_index("ix_media_content_hash", "media", ["content_hash"])
    op.create_index(op.f("ix_media_modality"), "media", ["modality"])
    op.create_index(op.f("ix_media_status"), "media", ["status"])
    op.create_table(
        "segments",
        sa.Column("id", Id, nullable=False),
        sa.Column("media_id", Id, nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("t_start", sa.Float(), nullable=True),
        sa.Column("t_end", sa.Float(), nullable=True),
        sa.Column("char_start", sa.Integer(), nullable=True),
        sa.Column("char_end", sa.Integer(), nullable=True),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], name=op.f("fk_segments_media_id_media"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
    )
    op.create_index(op.f("ix_segments_media_id"), "segments", ["media_id"])
    op.create_index(op.f("ix_segments_kind"), "segments", ["kind"])


def downgrade() -> None:
    op.drop_table("segments")
    op.drop_table("media")
    op.drop_table("roots")
