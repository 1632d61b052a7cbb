"""The append-only delta log beside a space's base index files.

Saving a few added or removed vectors appends one record (time proportional to the change)
instead of rewriting every base file; the log is folded into the base files (compacted) once it
grows past a fraction of them. Each record carries the SQL generations it moves between and its
own CRC-32, so a torn tail (a crash mid-append) is detected and dropped, and the cache is then
brought up to date from SQL as before: SQL stays the truth.

Record layout: ``MAGIC | u64 payload length | u32 crc32(payload) | payload`` where the payload is
a JSON header line ``{"before", "after", "removed", "added": [[kind, n], ...]}`` followed by the
removed ids (int64) and, per added kind, its ids (int64) then its vectors (float32).
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"MMD1"
_HEAD = struct.Struct("<4sQI")


@dataclass(frozen=True)
class Delta:
    before: int
    after: int
    removed: np.ndarray
    added: tuple[tuple[str, np.ndarray, np.ndarray], ...]


def encode(delta: Delta) -> bytes:
    header = {"before": delta.before, "after": delta.after, "removed": len(delta.removed),
              "added": [[kind, len(ids)] for kind, ids, _ in delta.added]}
    parts = [json.dumps(header).encode() + b"\n", np.ascontiguousarray(delta.removed, np.int64).tobytes()]
    for _kind, ids, vectors in delta.added:
        parts += [np.ascontiguousarray(ids, np.int64).tobytes(), np.ascontiguousarray(vectors, np.float32).tobytes()]
    payload = b"".join(parts)
    return _HEAD.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def _decode(payload: bytes, dim: int) -> Delta:
    line_end = payload.index(b"\n")
    header = json.loads(payload[:line_end])
    at = line_end + 1
    removed = np.frombuffer(payload, np.int64, int(header["removed"]), at).copy()
    at += 8 * len(removed)
    added = []
    for kind, n in header["added"]:
        ids = np.frombuffer(payload, np.int64, n, at).copy()
        at += 8 * n
        vectors = np.frombuffer(payload, np.float32, n * dim, at).reshape(n, dim).copy()
        at += 4 * n * dim
        added.append((str(kind), ids, vectors))
    if at != len(payload):
        raise ValueError("record length does not match its header")
    return Delta(int(header["before"]), int(header["after"]), removed, tuple(added))


def read(path: Path, dim: int) -> tuple[list[Delta], int]:
    """The whole records of the log and the byte length they span; a torn or damaged tail, and
    everything after it, is left out (the caller catches up from SQL)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    records: list[Delta] = []
    at = 0
    while at + _HEAD.size <= len(data):
        magic, length, crc = _HEAD.unpack_from(data, at)
        start, end = at + _HEAD.size, at + _HEAD.size + length
        if magic != MAGIC or end > len(data) or zlib.crc32(data[start:end]) != crc:
            break
        try:
            records.append(_decode(data[start:end], dim))
        except (ValueError, KeyError, TypeError):
            break
        at = end
    return records, at


def append(path: Path, records: Sequence[bytes], valid_bytes: int) -> int:
    """Append encoded records after the first ``valid_bytes`` (cutting a torn tail first) and
    fsync; returns the new length."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if os.fstat(fd).st_size != valid_bytes:
            os.ftruncate(fd, valid_bytes)
        os.lseek(fd, valid_bytes, os.SEEK_SET)
        data = b"".join(records)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    return valid_bytes + len(data)


def replay(records: Sequence[Delta], generation: int) -> Iterator[Delta]:
    """The records that continue from ``generation``, in order: older ones (already in the base
    files) are skipped; a gap ends the chain."""
    for record in records:
        if record.after <= generation and record.before < generation:
            continue
        if record.before != generation:
            return
        yield record
        generation = record.after
