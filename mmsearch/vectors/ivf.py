"""Approximate search: FAISS IVF-Flat (inverted lists of full vectors, no compression).

Trained on the vectors it is built from and retrained when the count has doubled since, so the
clusters follow the library. After each training, ``nprobe`` is raised until recall@10 against
exact search, measured with a sample of its own vectors as queries, reaches ``TARGET_RECALL``;
that recall is saved with the cache and reported by ``mmsearch status``.

Filtered queries keep a full top-k: a small allowed set is scored exactly; a large one is searched
with an id selector and ``nprobe`` scaled up by how thin the allowed set is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from .base import VectorBackend, atomic_write, check_shape, empty_result, finite, seal, stamp_path, top_k
from .faiss_index import read_cache

TARGET_RECALL = 0.95
#: nprobe is tuned to this on own-vector queries: they measured 2-3 points above fresh queries
#: from the same library (python -m mmsearch.bench vectors), and the target is for fresh ones
TUNE_RECALL = 0.97
RECALL_QUERIES = 200
#: Allowed sets up to this size are scored exactly (cheaper than probing many lists).
EXACT_FILTER_MAX = 50_000


def nlist_for(n: int) -> int:
    # ~sqrt(n) lists: training cost grows with the list count, and on two cores 4 sqrt(n) (the
    # FAISS guideline) made a 1M build take minutes; at least 39 training points per list
    return max(1, min(int(math.sqrt(n)), n // 39 or 1))


class IVFIndex(VectorBackend):
    name = "ivf"

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.index: Any = None  # faiss.IndexIVFFlat once trained
        self.trained_at = 0
        self.nprobe = 1
        self.recall = float("nan")
        self._ids: np.ndarray | None = None  # sorted, cached until the next change

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def build(cls, dim: int, ids: np.ndarray, vectors: np.ndarray, seed: int = 0) -> IVFIndex:
        obj = cls(dim)
        obj._train(*check_shape(ids, vectors, dim), seed=seed)
        return obj

    def _train(self, ids: np.ndarray, vectors: np.ndarray, seed: int = 0) -> None:
        n = len(ids)
        nlist = nlist_for(n)
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.own_fields = True
        quantizer.this.disown()  # the IVF index frees its quantizer
        rng = np.random.default_rng(seed)
        train = vectors if n <= 64 * nlist else vectors[np.sort(rng.choice(n, 64 * nlist, replace=False))]
        index.cp.seed = seed
        index.cp.niter = 10  # k-means converges enough for routing; 25 (the default) costs 2.5x
        index.train(np.ascontiguousarray(train))
        index.set_direct_map_type(faiss.DirectMap.Hashtable)  # vectors by id, remove by id
        index.add_with_ids(vectors, ids)
        self.index, self.trained_at, self._ids = index, n, None
        self._tune(seed)

    def _tune(self, seed: int) -> None:
        """Smallest power-of-two nprobe whose recall@10 reaches the target, with a sample of its
        own vectors as queries. Each query's own id is left out of both answers: it always sits
        in the query's own list, and counting it made recall look ~5 points better than on
        fresh queries from the same library."""
        ids = self.ids()
        asked = np.sort(np.random.default_rng(seed).choice(ids, min(RECALL_QUERIES, len(ids)), replace=False))
        queries = self.vectors(asked)
        k = min(10, len(ids) - 1)
        if k < 1:
            self.nprobe, self.recall = 1, 1.0
            return
        exact = _without_self(self._exact_all(queries, k + 1)[1], asked, k)
        nprobe = 1
        while True:
            self.index.nprobe = nprobe
            found = _without_self(self.index.search(queries, k + 1)[1], asked, k)
            recall = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(found, exact)]))
            if recall >= TUNE_RECALL or nprobe >= self.index.nlist:
                break
            nprobe = min(nprobe * 2, self.index.nlist)
        self.nprobe, self.recall = nprobe, recall

    def _lists(self):  # type: ignore[no-untyped-def]
        """(ids, vectors) of each non-empty inverted list, as copies."""
        invlists = self.index.invlists
        for lst in range(self.index.nlist):
            size = invlists.list_size(lst)
            if size:
                ids = faiss.rev_swig_ptr(invlists.get_ids(lst), size).copy()
                codes = faiss.rev_swig_ptr(invlists.get_codes(lst), size * self.dim * 4).copy()
                yield ids, codes.view(np.float32).reshape(size, self.dim)

    def _chunks(self, size: int = 200_000):  # type: ignore[no-untyped-def]
        """The lists joined into chunks of about ``size`` vectors (fewer, larger products)."""
        ids: list[np.ndarray] = []
        vectors: list[np.ndarray] = []
        held = 0
        for i, v in self._lists():
            ids.append(i)
            vectors.append(v)
            held += len(i)
            if held >= size:
                yield np.concatenate(ids), np.concatenate(vectors)
                ids, vectors, held = [], [], 0
        if ids:
            yield np.concatenate(ids), np.concatenate(vectors)

    def _exact_all(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        best_s, best_i = empty_result(len(queries), k)
        for ids, vectors in self._chunks():
            s = np.concatenate([best_s, queries @ vectors.T], axis=1)
            i = np.concatenate([best_i, np.broadcast_to(ids, (len(queries), len(ids)))], axis=1)
            order = np.argsort(-s, axis=1, kind="stable")[:, :k]
            best_s, best_i = np.take_along_axis(s, order, axis=1), np.take_along_axis(i, order, axis=1)
        return best_s, best_i

    # -- the interface -------------------------------------------------------------------------

    def __len__(self) -> int:
        return 0 if self.index is None else int(self.index.ntotal)

    def info(self) -> dict[str, Any]:
        return {"backend": self.name, "recall_at_10": round(self.recall, 4), "nprobe": self.nprobe,
                "nlist": 0 if self.index is None else int(self.index.nlist)}

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        ids, vectors = check_shape(ids, vectors, self.dim)
        if self.index is None or len(self) + len(ids) >= 2 * self.trained_at:
            # grown to twice the size it was trained at: retrain on everything it holds
            old = list(self._lists()) if self.index is not None else []
            all_ids = np.concatenate([o[0] for o in old] + [ids])
            all_vectors = np.concatenate([o[1] for o in old] + [vectors])
            self._train(all_ids, all_vectors)
            return
        self.index.add_with_ids(vectors, ids)
        self._ids = None

    def remove(self, ids: np.ndarray) -> int:
        if len(ids) == 0 or self.index is None:
            return 0
        removed = int(self.index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64)))
        self._ids = None
        return removed

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if len(self) == 0:
            return empty_result(queries.shape[0], max(1, k))
        k = max(1, min(k, len(self)))
        if allowed is None:
            self.index.nprobe = self.nprobe
            return finite(*self.index.search(queries, k))
        held = self.ids()
        allowed = np.unique(np.asarray(allowed, dtype=np.int64))
        allowed = allowed[np.isin(allowed, held, assume_unique=True)]
        if len(allowed) <= EXACT_FILTER_MAX:
            return top_k(queries @ self.vectors(allowed).T, allowed, k)
        # a thin allowed set leaves few candidates per probed list: probe proportionally more
        scale = math.ceil(len(self) / max(1, len(allowed)))
        params = faiss.SearchParametersIVF(sel=faiss.IDSelectorBatch(allowed), nprobe=min(self.index.nlist, self.nprobe * scale))
        return finite(*self.index.search(queries, k, params=params))

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        if len(ids) == 0:
            return np.zeros((0, self.dim), np.float32)
        return self.index.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64))

    def ids(self) -> np.ndarray:
        if self._ids is None:
            parts = [ids for ids, _ in self._lists()] if self.index is not None else []
            self._ids = np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        return self._ids

    # -- persistence ---------------------------------------------------------------------------

    def save(self, path: Path, stamp: Mapping[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = faiss.serialize_index(self.index).tobytes()
        atomic_write(path, data)
        own = {"ivf_trained_at": self.trained_at, "ivf_nprobe": self.nprobe, "ivf_recall_at_10": self.recall}
        atomic_write(stamp_path(path), seal({**stamp, **own}, data))

    @classmethod
    def load(cls, path: Path, dim: int) -> tuple[IVFIndex, dict] | None:
        loaded = read_cache(path)
        if loaded is None:
            return None
        index, found = loaded
        try:
            obj = cls(dim)
            obj.trained_at = int(found.pop("ivf_trained_at"))
            obj.nprobe = int(found.pop("ivf_nprobe"))
            obj.recall = float(found.pop("ivf_recall_at_10"))
        except (OSError, ValueError, RuntimeError, KeyError, TypeError):
            return None
        if index.d != dim or not isinstance(index, faiss.IndexIVFFlat):
            return None
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
        obj.index = index
        return obj, found


def _without_self(found: np.ndarray, asked: np.ndarray, k: int) -> list[list[int]]:
    return [[i for i in row if i != own and i >= 0][:k] for row, own in zip(found.tolist(), asked.tolist())]
