"""The vector-index interface every backend implements, and the file helpers they share.

The engine and the search layer see only :class:`VectorBackend`; FAISS, NumPy or torch types
never leave ``mmsearch/vectors/``. A backend file is a cache: SQL holds the truth, the file is
stamped with the SQL generation it reflects and a checksum of its bytes, and the caller rebuilds
from SQL when either does not match.
"""

from __future__ import annotations

import json
import mmap
import os
import tempfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import numpy as np


class VectorBackend(ABC):
    """Inner-product top-k over L2-normalised float32 vectors keyed by int64 segment id."""

    #: the value of the ``vectors.backend`` setting that selects this backend
    name: ClassVar[str]
    dim: int

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add ``vectors`` (n x dim) under ``ids`` (n); ids must not already be present."""

    @abstractmethod
    def remove(self, ids: np.ndarray) -> int:
        """Remove those of ``ids`` that are present; returns how many were."""

    @abstractmethod
    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query row, best first; id -1 (score -inf) where fewer exist.

        ``allowed`` restricts the search to those ids *before* ranking (a pre-filter): a filtered
        query still gets a full top-k whenever k allowed vectors exist."""

    @abstractmethod
    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids`` (all present), in that order (n x dim float32)."""

    @abstractmethod
    def ids(self) -> np.ndarray:
        """Every id held (int64, any order)."""

    @abstractmethod
    def save(self, path: Path, stamp: Mapping[str, Any]) -> None:
        """Write atomically with ``stamp`` (plus size and checksum) in ``stamp_path(path)``."""

    @classmethod
    @abstractmethod
    def load(cls, path: Path, dim: int) -> tuple[VectorBackend, dict] | None:
        """The cached index and its stamp, or ``None`` if missing, unreadable or damaged."""

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """Up to ``n`` stored vectors drawn without replacement, reproducibly for ``seed``
        (the library background that calibration measures scores against)."""
        ids = np.sort(self.ids())
        if len(ids) == 0:
            return np.zeros((0, self.dim), np.float32)
        chosen = np.sort(np.random.default_rng(seed).choice(len(ids), size=min(n, len(ids)), replace=False))
        return self.vectors(ids[chosen])

    def nbytes(self) -> int:
        """Memory held by the vectors (the dominant cost; ids and structure are small beside it)."""
        return len(self) * self.dim * 4

    def info(self) -> dict[str, Any]:
        """What ``mmsearch status`` reports about this index (backend, and recall if approximate)."""
        return {"backend": self.name}


def check_shape(ids: np.ndarray, vectors: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.shape != (len(ids), dim):
        raise ValueError(f"expected vectors of shape ({len(ids)}, {dim}), got {vectors.shape}")
    return np.ascontiguousarray(ids, dtype=np.int64), vectors


def empty_result(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((n, k), -np.inf, dtype=np.float32), np.full((n, k), -1, dtype=np.int64)


def top_k(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` of each row of ``scores`` (queries x candidates) with ``ids`` (candidates),
    padded with -1 / -inf; ties keep candidate order so results are reproducible."""
    n, m = scores.shape
    out_s, out_i = empty_result(n, k)
    if m == 0:
        return out_s, out_i
    take = min(k, m)
    part = np.argpartition(-scores, take - 1, axis=1)[:, :take] if take < m else np.tile(np.arange(m), (n, 1))
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    best = np.take_along_axis(part, order, axis=1)
    out_s[:, :take] = np.take_along_axis(scores, best, axis=1)
    out_i[:, :take] = ids[best]
    return finite(out_s, out_i)


def finite(scores: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Results with a NaN or infinite score become empty slots (id -1), so they never rank."""
    bad = ~np.isfinite(scores) & (ids >= 0)
    if bad.any():
        scores, ids = scores.copy(), ids.copy()
        scores[bad], ids[bad] = -np.inf, -1
    return scores, ids


# -- files ---------------------------------------------------------------------------------------

BYTES, CRC = "file_bytes", "file_crc32"


def checksum(data: bytes | memoryview) -> int:
    """CRC-32 of the cache file: 6.7 GB/s here (zlib), against 1.3 GB/s for BLAKE2b. It guards
    against damage, not tampering; an attacker who can write the file can rewrite the stamp."""
    return zlib.crc32(data)


def stamp_path(path: Path) -> Path:
    return path.with_suffix(path.suffix + ".stamp")


def read_stamp(path: Path) -> dict | None:
    try:
        stamp = json.loads(stamp_path(path).read_bytes())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def seal(stamp: Mapping[str, Any], data: bytes | memoryview) -> bytes:
    return json.dumps({**stamp, BYTES: len(data), CRC: checksum(data)}, sort_keys=True).encode()


def unseal(stamp: dict, data: bytes | memoryview) -> dict | None:
    """``stamp`` without its seal if ``data`` is the file it was written for, else ``None``."""
    stamp = dict(stamp)
    if stamp.pop(BYTES, None) != len(data) or stamp.pop(CRC, None) != checksum(data):
        return None
    return stamp


def read_sealed(path: Path) -> tuple[memoryview, dict] | None:
    """A cache file's bytes (a read-only memory map) and its stamp (without the seal), or ``None``
    when either is missing, unreadable, or the file is not the one the stamp was written for (size
    or checksum). Mapped rather than read: a loader copies what it keeps (the torch backend into
    tensors), so a bytes object would hold a second full copy for the length of the load. FAISS
    caches use :func:`open_sealed`, which streams."""
    stamp = read_stamp(path)
    if stamp is None:
        return None
    try:
        raw = memoryview(np.memmap(path, np.uint8, mode="r")) if path.stat().st_size else memoryview(b"")
    except (OSError, ValueError):
        return None
    found = unseal(stamp, raw)
    return None if found is None else (raw, found)


class SealedFile:
    """An open cache file whose bytes matched its stamp when checked, rewound to its start.

    The check and the reader that follows see the same file even if a writer replaces the path
    meanwhile (the descriptor keeps the inode). For loaders that can stream (FAISS's
    ``read_index``): the file is never held twice in memory."""

    def __init__(self, handle: BinaryIO, stamp: dict) -> None:
        self.handle, self.stamp = handle, stamp

    def __enter__(self) -> SealedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def open_sealed(path: Path) -> SealedFile | None:
    """Like :func:`read_sealed`, but returns the checked file open for streaming."""
    stamp = read_stamp(path)
    if stamp is None:
        return None
    try:
        handle = open(path, "rb")  # noqa: SIM115 - handed to the caller inside SealedFile
    except OSError:
        return None
    try:
        found = unseal(stamp, b"")
        if os.fstat(handle.fileno()).st_size:
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                view = memoryview(mapped)
                try:
                    found = unseal(stamp, view)
                finally:
                    view.release()  # the map cannot close while a view of it is alive
    except (OSError, ValueError):
        handle.close()
        return None
    if found is None:
        handle.close()
        return None
    return SealedFile(handle, found)


def atomic_write(path: Path, data: bytes | memoryview) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
