"""The FAISS indexes of an index directory: one per (space, segment kind), rebuilt from SQL when stale.

Keeping kinds apart lets each leg search only the segments its calibration was measured on,
without an id selector on the unfiltered path.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, select

from ..store.models import Segment, SpaceRow, Vector
from .faiss_index import VectorIndex


class SpaceIndexes:
    def __init__(self, directory: Path, db: Engine, space_id: int, dim: int) -> None:
        self.directory = directory
        self.db = db
        self.space_id = space_id
        self.dim = dim
        self.by_kind: dict[str, VectorIndex] = {}
        self.generation = -1

    def _path(self, kind: str) -> Path:
        return self.directory / f"space-{self.space_id}-{kind}.faiss"

    def sql_generation(self) -> int:
        with self.db.connect() as conn:
            return int(conn.scalar(select(SpaceRow.generation).where(SpaceRow.id == self.space_id)) or 0)

    def open(self) -> None:
        """Load the cached files if they reflect the SQL state, else rebuild from SQL."""
        generation = self.sql_generation()
        kinds = self._sql_kinds()
        loaded: dict[str, VectorIndex] = {}
        for kind in kinds:
            found = VectorIndex.load(self._path(kind), self.dim)
            if found is None or found[1].get("generation") != generation:
                self.rebuild()
                return
            loaded[kind] = found[0]
        self.by_kind, self.generation = loaded, generation

    def refresh(self) -> bool:
        """Reload when another process changed the vectors; True if it did."""
        if self.sql_generation() == self.generation:
            return False
        self.open()
        return True

    def rebuild(self) -> None:
        by_kind: dict[str, VectorIndex] = {}
        with self.db.connect() as conn:
            generation = int(conn.scalar(select(SpaceRow.generation).where(SpaceRow.id == self.space_id)) or 0)
            rows = conn.execute(
                select(Vector.segment_id, Segment.kind, Vector.vector)
                .join(Segment, Segment.id == Vector.segment_id)
                .where(Vector.space_id == self.space_id)
                .order_by(Segment.kind)
                .execution_options(yield_per=20_000)
            )
            for partition in rows.partitions():
                self._add_rows(by_kind, partition)
        self.by_kind, self.generation = by_kind, generation
        self.save()

    def _add_rows(self, by_kind: dict[str, VectorIndex], rows: Iterable) -> None:
        grouped: dict[str, tuple[list[int], list[bytes]]] = {}
        for segment_id, kind, blob in rows:
            ids, blobs = grouped.setdefault(kind, ([], []))
            ids.append(segment_id)
            blobs.append(blob)
        for kind, (ids, blobs) in grouped.items():
            vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), self.dim)
            by_kind.setdefault(kind, VectorIndex(self.dim)).add(np.asarray(ids, dtype=np.int64), vectors)

    def _sql_kinds(self) -> list[str]:
        with self.db.connect() as conn:
            return list(
                conn.scalars(
                    select(Segment.kind)
                    .join(Vector, Vector.segment_id == Segment.id)
                    .where(Vector.space_id == self.space_id)
                    .distinct()
                )
            )

    def add(self, kind: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.by_kind.setdefault(kind, VectorIndex(self.dim)).add(ids, vectors)

    def remove(self, ids: np.ndarray) -> None:
        for index in self.by_kind.values():
            index.remove(ids)

    def mark(self, generation: int) -> None:
        """The in-memory indexes now reflect SQL ``generation`` (set after a committed write)."""
        self.generation = generation

    def save(self) -> None:
        stamp = {"space_id": self.space_id, "generation": self.generation}
        for kind, index in self.by_kind.items():
            index.save(self._path(kind), {**stamp, "kind": kind})

    def count(self) -> int:
        return sum(len(index) for index in self.by_kind.values())

    def nbytes(self) -> int:
        return self.count() * self.dim * 4
