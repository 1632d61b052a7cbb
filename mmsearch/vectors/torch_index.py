"""Exact search with torch: the vectors live on one device (CUDA when there is one), a batch of
queries is one matrix product and a ``topk``. For users whose FAISS has no GPU support; on a
machine without CUDA it runs on the CPU (that is how the tests check it)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .base import VectorBackend, atomic_write, check_shape, empty_result, finite, read_sealed, seal, stamp_path


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


class TorchIndex(VectorBackend):
    name = "torch"

    def __init__(self, dim: int, device: str | None = None) -> None:
        import torch  # lazily: a search that never picks this backend never imports torch

        self._torch = torch
        self.dim = dim
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self._vectors = torch.zeros((0, dim), dtype=torch.float32, device=self.device)
        self._ids = np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self._ids)

    def info(self) -> dict[str, Any]:
        return {"backend": self.name, "device": str(self.device)}

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        ids, vectors = check_shape(ids, vectors, self.dim)
        self._vectors = self._torch.cat([self._vectors, self._torch.from_numpy(vectors).to(self.device)])
        self._ids = np.concatenate([self._ids, ids])

    def remove(self, ids: np.ndarray) -> int:
        gone = np.isin(self._ids, np.asarray(ids, dtype=np.int64))
        if not gone.any():
            return 0
        keep = np.flatnonzero(~gone)
        self._vectors = self._vectors[self._torch.from_numpy(keep).to(self.device)]
        self._ids = self._ids[keep]
        return int(gone.sum())

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        n = queries.shape[0]
        if len(self) == 0:
            return empty_result(n, max(1, k))
        k = max(1, min(k, len(self)))
        stored, ids = self._vectors, self._ids
        if allowed is not None:
            positions = np.flatnonzero(np.isin(ids, np.asarray(allowed, dtype=np.int64)))
            stored, ids = stored[self._torch.from_numpy(positions).to(self.device)], ids[positions]
        out_s, out_i = empty_result(n, k)
        take = min(k, len(ids))
        if take == 0:
            return out_s, out_i
        q = self._torch.from_numpy(queries).to(self.device)
        with self._torch.no_grad():
            scores = q @ stored.T
            # NaN would rank first in topk: make it the lowest score instead
            scores = self._torch.nan_to_num(scores, nan=-float("inf"))
            best_s, best_p = self._torch.topk(scores, take, dim=1)
        out_s[:, :take] = best_s.cpu().numpy()
        out_i[:, :take] = ids[best_p.cpu().numpy()]
        return finite(out_s, out_i)

    def _positions(self, ids: np.ndarray) -> np.ndarray:
        order = np.argsort(self._ids, kind="stable")
        where = np.searchsorted(self._ids, ids, sorter=order)
        return order[np.minimum(where, len(order) - 1)]

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        if len(ids) == 0:
            return np.zeros((0, self.dim), np.float32)
        positions = self._torch.from_numpy(self._positions(np.asarray(ids, dtype=np.int64))).to(self.device)
        return self._vectors[positions].cpu().numpy()

    def ids(self) -> np.ndarray:
        return self._ids.copy()

    def save(self, path: Path, stamp: Mapping[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self._ids.tobytes() + self._vectors.cpu().numpy().tobytes()
        atomic_write(path, data)
        atomic_write(stamp_path(path), seal({**stamp, "count": len(self)}, data))

    @classmethod
    def load(cls, path: Path, dim: int, device: str | None = None) -> tuple[TorchIndex, dict] | None:
        sealed = read_sealed(path)
        if sealed is None:
            return None
        raw, found = sealed
        try:
            count = int(found.pop("count"))
            if len(raw) != count * (8 + 4 * dim):
                return None
            ids = np.frombuffer(raw, np.int64, count)
            vectors = np.frombuffer(raw, np.float32, count * dim, offset=8 * count).reshape(count, dim)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        obj = cls(dim, device)
        obj.add(ids.copy(), vectors.copy())  # torch wants writable memory; the bytes are read-only
        return obj, found
