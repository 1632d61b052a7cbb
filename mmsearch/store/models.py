"""SQLAlchemy 2.0 typed models. The schema itself is created by Alembic migrations, never create_all."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite's INTEGER PRIMARY KEY is the rowid; BigInteger elsewhere keeps FAISS's int64 ids.
IdType = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Root(Base):
    """A library folder given to ``mmsearch index``; media paths are relative to one."""

    __tablename__ = "roots"
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    path: Mapped[str] = mapped_column(String(4096), unique=True)
    added_at: Mapped[datetime]


class Media(Base):
    __tablename__ = "media"
    __table_args__ = (UniqueConstraint("root_id", "relpath"), Index("ix_media_content_hash", "content_hash"))
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    root_id: Mapped[int] = mapped_column(ForeignKey("roots.id", ondelete="CASCADE"))
    relpath: Mapped[str] = mapped_column(String(4096))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    # Status-change time when indexed (NULL: written before migration 0005): an edit that keeps the
    # size and restores the mtime still moves it.
    ctime_ns: Mapped[int | None] = mapped_column(BigInteger)
    content_hash: Mapped[str] = mapped_column(String(64))
    mime: Mapped[str | None] = mapped_column(String(255))
    modality: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # indexed | failed
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    indexed_at: Mapped[datetime]
    # EXIF capture date (a modality's meta["taken"] on the first segment); date filters fall back to mtime.
    taken_at: Mapped[datetime | None] = mapped_column(index=True)
    # Document metadata a modality reports (meta["title"], meta["author"]), for title:/author: filters.
    title: Mapped[str | None] = mapped_column(String(1024))
    author: Mapped[str | None] = mapped_column(String(1024))


class Segment(Base):
    __tablename__ = "segments"
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    t_start: Mapped[float | None] = mapped_column(Float)
    t_end: Mapped[float | None] = mapped_column(Float)
    char_start: Mapped[int | None] = mapped_column(Integer)
    char_end: Mapped[int | None] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict | None] = mapped_column(JSON)


class SpaceRow(Base):
    """An embedding space this index was built with; opening with another model is refused."""

    __tablename__ = "spaces"
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    key: Mapped[str] = mapped_column(String(512), unique=True)
    embedder: Mapped[str] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(384))
    dim: Mapped[int] = mapped_column(Integer)
    kinds: Mapped[str] = mapped_column(String(255))  # comma-separated payload kinds
    created_at: Mapped[datetime]
    # Bumped in every transaction that adds or removes vectors: the FAISS cache is stamped with it.
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
    # A random id: the vector cache is stamped with it, so another database's cache never passes.
    uid: Mapped[str | None] = mapped_column(String(32))


class Vector(Base):
    __tablename__ = "vectors"
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True, index=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
