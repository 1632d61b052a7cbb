"""Embedding spaces and one vector blob per segment and space (SQL holds the truth; FAISS is a cache).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "spaces",
        sa.Column("id", Id, nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("embedder", sa.String(128), nullable=False),
        sa.Column("model", sa.String(384), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spaces")),
        sa.UniqueConstraint("key", name=op.f("uq_spaces_key")),
    )
    op.create_table(
        "vectors",
        sa.Column("segment_id", Id, nullable=False),
        sa.Column("space_id", Id, nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["segment_id"], ["segments.id"], name=op.f("fk_vectors_segment_id_segments"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["space_id"], ["spaces.id"], name=op.f("fk_vectors_space_id_spaces"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("segment_id", "space_id", name=op.f("pk_vectors")),
    )
    op.create_index(op.f("ix_vectors_space_id"), "vectors", ["space_id"])


def downgrade() -> None:
    op.drop_table("vectors")
    op.drop_table("spaces")
