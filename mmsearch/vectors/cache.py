"""The FAISS indexes of an index directory: one per (space, segment kind), rebuilt from SQL when stale.

Keeping kinds apart lets each leg search only the segments its calibration was measured on,
without an id selector on the unfiltered path.

The one invariant: ``generation`` names a SQL state that the in-memory indexes hold exactly, and
a file is only ever stamped with the generation its own content holds. A writer learns the
generation its transaction produced from that transaction (see ``writer._bump``); when another
process wrote in between, the delta alone no longer yields a known state, so the indexes are
rebuilt from SQL instead of being stamped with a state they do not hold.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, func, select

from ..store.models import Segment, SpaceRow, Vector
from . import backends, delta
from .base import VectorBackend, read_stamp
from .flat import FlatIndex
from .progress import rebuild_reporter

log = logging.getLogger(__name__)

#: A rebuild without a progress callback or reporter logs a line per this many vectors read.
REPORT_EVERY = 200_000
#: The delta log is folded into the base files once it outgrows this fraction of the vectors.
COMPACT_FRACTION = 0.25
#: ... but never before it reaches this many bytes (small libraries would compact on every save).
COMPACT_MIN_BYTES = 8 << 20


class SpaceIndexes:
    def __init__(self, directory: Path, db: Engine, space_id: int, dim: int, read_only: bool = False, backend: str = "auto") -> None:
        self.directory = directory
        self.db = db
        self.space_id = space_id
        self.dim = dim
        self.read_only = read_only  # never write a file: the index directory is not writable
        self.backend = backends.check_backend(backend)  # the setting: ``auto`` or a concrete name
        self.by_kind: dict[str, VectorBackend] = {}
        self.generation = -1
        self.uid: str | None = None  # the space row's random id (migration 0005), read on open
        self.dirty = False  # the files on disk do not hold the in-memory state
        self._base_generation: int | None = None  # the generation the base files hold
        self._log_bytes = 0  # length of the whole records in the delta log
        self._pending: list[bytes] = []  # encoded records not yet appended to the log
        self._need_full = True  # the next save rewrites the base files (compaction)

    def _path(self, kind: str) -> Path:
        return self.directory / f"space-{self.space_id}-{kind}.faiss"

    def sql_generation(self) -> int:
        with self.db.connect() as conn:
            return int(conn.scalar(select(SpaceRow.generation).where(SpaceRow.id == self.space_id)) or 0)

    def _sql_uid(self) -> str | None:
        with self.db.connect() as conn:
            return conn.scalar(select(SpaceRow.uid).where(SpaceRow.id == self.space_id))

    def _log_path(self) -> Path:
        return self.directory / f"space-{self.space_id}.delta"

    def open(self) -> None:
        """Load the base files and replay the delta log; rebuild from SQL unless that yields
        exactly the SQL state (a missing, damaged or mixed base, a torn log, a gap)."""
        generation = self.sql_generation()
        self.uid = self._sql_uid()
        kinds = self._sql_kinds()
        loaded: dict[str, VectorBackend] = {}
        stamped: set[int] = set()
        for path in sorted(self.directory.glob(f"space-{self.space_id}-*.faiss")):
            # Written for this very space of this database? Generations count up from 0 in every
            # database, so a second --db on one index folder found its numbers matching.
            stamp = read_stamp(path)
            if stamp is None or stamp.get("uid") != self.uid:
                self.rebuild()
                return
            found = backends.load(path, self.dim)
            if found is None or not isinstance(found[1].get("kind"), str):
                self.rebuild()
                return
            loaded[found[1]["kind"]] = found[0]
            stamped.add(int(found[1].get("generation", -1)))
        if len(stamped) > 1 or (not stamped and kinds):  # a save cut short between kinds, or no cache
            self.rebuild()
            return
        had_base = bool(stamped)
        base = stamped.pop() if stamped else generation
        records, valid = delta.read(self._log_path(), self.dim)
        reached, used = base, 0
        for record in delta.replay(records, base):
            self._apply_to(loaded, record.removed, record.added)
            reached, used = record.after, used + 1
        if reached != generation or not set(kinds) <= set(loaded) or self.sql_generation() != generation:
            self.rebuild()  # behind SQL (torn log, another writer) or a commit between the reads
            return
        self.by_kind, self.generation, self.dirty = loaded, generation, False
        self._base_generation, self._log_bytes, self._pending = base, valid, []
        # records the chain did not use (older than the base, or past a gap) are folded away
        self._need_full = used != len(records) or not had_base
        self._settle()

    def refresh(self) -> bool:
        """Reload when another process changed the vectors; True if it did."""
        if self.sql_generation() == self.generation:
            return False
        self.open()
        return True

    def rebuild(self, progress: Callable[[int], None] | None = None) -> None:
        """Read every vector of the space from SQL, streamed in batches of 20,000 rows
        (``progress`` gets the running count), then save the result (best effort).

        The generation is read before and after the rows. When a commit fell in between, the
        rows hold more than the first reading names, so the result is kept in memory under that
        older generation (the next refresh reloads it) and never saved: a file is only stamped
        with a state it is known to hold.
        """
        by_kind: dict[str, VectorBackend] = {}
        self.uid = self._sql_uid()
        reporter = rebuild_reporter.get() if progress is None else None
        with self.db.connect() as conn, contextlib.ExitStack() as stack:
            generation = int(conn.scalar(select(SpaceRow.generation).where(SpaceRow.id == self.space_id)) or 0)
            if reporter is not None:
                total = int(conn.scalar(select(func.count()).select_from(Vector).where(Vector.space_id == self.space_id)) or 0)
                progress = stack.enter_context(reporter(self.space_id, total))
            rows = conn.execute(
                select(Vector.segment_id, Segment.kind, Vector.vector)
                .join(Segment, Segment.id == Vector.segment_id)
                .where(Vector.space_id == self.space_id)
                .order_by(Segment.kind)
                .execution_options(yield_per=20_000)
            )
            done = 0
            for partition in rows.partitions():
                self._add_rows(by_kind, partition)
                done += len(partition)
                if progress is not None:
                    progress(done)
                elif done % REPORT_EVERY < len(partition):  # a large rebuild says how far it is
                    log.warning("space %s: rebuilding the vector cache from the database: %d vectors read", self.space_id, done)
        exact = self.sql_generation() == generation
        self.by_kind, self.generation, self.dirty = by_kind, generation, exact
        self._pending, self._need_full = [], True
        self._settle()
        self.save()

    def _add_rows(self, by_kind: dict[str, VectorBackend], rows: Iterable) -> None:
        grouped: dict[str, tuple[list[int], list[bytes]]] = {}
        for segment_id, kind, blob in rows:
            ids, blobs = grouped.setdefault(kind, ([], []))
            ids.append(segment_id)
            blobs.append(blob)
        for kind, (ids, blobs) in grouped.items():
            vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), self.dim)
            # always flat while streaming: an approximate index is trained once, on everything
            by_kind.setdefault(kind, FlatIndex(self.dim)).add(np.asarray(ids, dtype=np.int64), vectors)

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
        self._apply_to(self.by_kind, np.zeros(0, np.int64), [(kind, ids, vectors)])
        self.dirty, self._need_full = True, True  # no generations known: only a full save records it
        self._settle()

    def remove(self, ids: np.ndarray) -> None:
        for index in self.by_kind.values():
            if index.remove(ids):
                self.dirty, self._need_full = True, True

    def _apply_to(self, by_kind: dict[str, VectorBackend], removed: np.ndarray, added: Iterable[tuple[str, np.ndarray, np.ndarray]]) -> None:
        if len(removed):
            for index in by_kind.values():
                index.remove(removed)
        for kind, ids, vectors in added:
            index = by_kind.get(kind)
            if index is None:
                index = by_kind[kind] = backends.create(backends.wanted(self.backend, len(ids)), self.dim)
            index.add(ids, vectors)

    def apply(self, before: int, after: int, removed: np.ndarray, added: Iterable[tuple[str, np.ndarray, np.ndarray]]) -> None:
        """Mirror one committed transaction that moved SQL from generation ``before`` to ``after``.

        Only when the indexes hold exactly ``before`` does the delta yield ``after``; otherwise
        another process committed in between, and the indexes are rebuilt from SQL. The delta is
        kept as a log record for the next save.
        """
        if self.generation != before:
            log.debug("space %s: cache at generation %s, transaction went %s -> %s; rebuilding", self.space_id, self.generation, before, after)
            self.rebuild()
            return
        added = tuple((kind, np.asarray(ids, np.int64), np.asarray(vectors, np.float32)) for kind, ids, vectors in added)
        removed = np.asarray(removed, np.int64)
        self._apply_to(self.by_kind, removed, added)
        if not self._need_full:
            self._pending.append(delta.encode(delta.Delta(before, after, removed, added)))
        self.generation = after
        self.dirty = True
        self._settle()

    def mark(self, generation: int) -> None:
        """The in-memory indexes now reflect SQL ``generation`` (set after a committed write)."""
        self.generation = generation

    def save(self) -> None:
        """Bring the files up to memory: append the pending records to the delta log (cost
        proportional to the change), or rewrite the base files when the log has grown past
        ``COMPACT_FRACTION`` of them. A cache that cannot be written (full disk, read-only
        directory) is not an error: SQL holds the data and the next open rebuilds."""
        if self.read_only or not self.dirty:
            return
        propagating = sys.exc_info()[0] is not None  # called from a ``finally`` while an error unwinds
        try:
            pending = sum(len(r) for r in self._pending)
            if self._need_full or self._log_bytes + pending > COMPACT_FRACTION * max(self.nbytes(), COMPACT_MIN_BYTES):
                self._save_full()
            else:
                self.directory.mkdir(parents=True, exist_ok=True)
                self._log_bytes = delta.append(self._log_path(), self._pending, self._log_bytes)
                self._pending = []
        except OSError as exc:
            # While an error unwinds (the SQL write that hit a full disk), that error is the one
            # to report; a second line would only bury it.
            level = logging.DEBUG if propagating else logging.WARNING
            log.log(level, "could not save the vector cache in %s (%s); it will be rebuilt from the database", self.directory, exc.strerror or exc)
            return
        self.dirty = False

    def _save_full(self) -> None:
        stamp = {"space_id": self.space_id, "generation": self.generation, "uid": self.uid}
        for kind, index in self.by_kind.items():
            index.save(self._path(kind), {**stamp, "kind": kind, "backend": backends.concrete_name(index)})
        keep = {self._path(kind) for kind in self.by_kind}
        for stray in self.directory.glob(f"space-{self.space_id}-*.faiss"):  # a kind no longer held
            if stray not in keep:
                stray.unlink(missing_ok=True)
        # the base now holds every record: the log goes (a crash before this leaves only
        # records older than the base, which open skips)
        self._log_path().unlink(missing_ok=True)
        self._base_generation, self._log_bytes, self._pending, self._need_full = self.generation, 0, [], False

    def _settle(self) -> None:
        """Move each kind to the backend the setting wants for its size (``auto``: exact flat
        until ``APPROX_FROM`` vectors, then IVF); a moved index is saved on the next save."""
        if self.read_only:  # it could never save the result: every open would pay the move again
            return
        for kind, index in list(self.by_kind.items()):
            name = backends.wanted(self.backend, len(index))
            if backends.concrete_name(index) != name:
                log.info("space %s/%s: %d vectors, moving the index to the %s backend", self.space_id, kind, len(index), name)
                self.by_kind[kind] = backends.convert(index, name)
                self.dirty = True

    def info(self) -> dict[str, dict]:
        """Per kind: backend, count and (approximate backends) measured recall@10."""
        return {kind: {**index.info(), "vectors": len(index)} for kind, index in sorted(self.by_kind.items())}

    def count(self) -> int:
        return sum(len(index) for index in self.by_kind.values())

    def ids(self) -> np.ndarray:
        """Every segment id held, all kinds together (for checks against SQL)."""
        parts = [index.ids() for index in self.by_kind.values()]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def nbytes(self) -> int:
        return sum(index.nbytes() for index in self.by_kind.values())
