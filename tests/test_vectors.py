"""The FAISS wrapper agrees with a brute-force numpy reference and survives crashes as a cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmsearch.embedder import l2_normalize
from mmsearch.vectors.faiss_index import VectorIndex, stamp_path


def _data(n: int = 500, d: int = 32, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.choice(10**9, size=n, replace=False).astype(np.int64), l2_normalize(rng.standard_normal((n, d)).astype(np.float32))


def _brute(ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sims = queries @ vectors.T
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, order, axis=1), ids[order]


def test_search_matches_brute_force_ids_and_scores() -> None:
    ids, vectors = _data()
    index = VectorIndex(32, use_gpu=False)
    index.add(ids, vectors)
    queries = l2_normalize(np.random.default_rng(1).standard_normal((5, 32)).astype(np.float32))
    scores, found = index.search(queries, 10)
    ref_scores, ref_ids = _brute(ids, vectors, queries, 10)
    np.testing.assert_array_equal(found, ref_ids)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-5, atol=1e-6)


def test_removed_ids_are_never_returned() -> None:
    ids, vectors = _data()
    index = VectorIndex(32, use_gpu=False)
    index.add(ids, vectors)
    gone = ids[:250]
    assert index.remove(gone) == 250
    _, found = index.search(vectors[:10], 20)
    assert not set(found.ravel()) & set(gone.tolist())
    assert len(index) == 250


def test_prefilter_returns_full_top_k_from_allowed_ids_only() -> None:
    ids, vectors = _data(n=2000)
    index = VectorIndex(32, use_gpu=False)
    index.add(ids, vectors)
    allowed = ids[::100]  # 1% of the index
    query = vectors[:1]
    scores, found = index.search(query, 10, allowed=allowed)
    assert len(set(found[0].tolist())) == 10 and set(found[0].tolist()) <= set(allowed.tolist())
    ref_scores, ref_ids = _brute(allowed, vectors[::100], query, 10)
    np.testing.assert_array_equal(found, ref_ids)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-5)


def test_fewer_vectors_than_k_pads_with_minus_one() -> None:
    ids, vectors = _data(n=3)
    index = VectorIndex(32, use_gpu=False)
    index.add(ids, vectors)
    _, found = index.search(vectors[:1], 3)
    assert sorted(found[0].tolist()) == sorted(ids.tolist())
    _, empty = VectorIndex(32).search(vectors[:1], 5)
    assert (empty == -1).all()


def test_save_load_round_trip_with_stamp(tmp_path: Path) -> None:
    ids, vectors = _data()
    index = VectorIndex(32, use_gpu=False)
    index.add(ids, vectors)
    path = tmp_path / "space.faiss"
    index.save(path, {"generation": 42})
    loaded = VectorIndex.load(path, 32)
    assert loaded is not None and loaded[1] == {"generation": 42}
    np.testing.assert_array_equal(loaded[0].search(vectors[:3], 5)[1], index.search(vectors[:3], 5)[1])
    assert not list(tmp_path.glob("*.tmp")), "atomic save leaves no temp files"


@pytest.mark.parametrize("damage", ["missing", "truncated", "no-stamp", "wrong-dim"])
def test_damaged_cache_loads_as_none(tmp_path: Path, damage: str) -> None:
    ids, vectors = _data()
    index = VectorIndex(32, use_gpu=False)
    index.add(ids, vectors)
    path = tmp_path / "space.faiss"
    index.save(path, {"generation": 1})
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "no-stamp":
        stamp_path(path).unlink()
    dim = 16 if damage == "wrong-dim" else 32
    assert VectorIndex.load(path, dim) is None


def test_large_index_single_query_matches_brute_force_after_removals() -> None:
    """From 20k vectors a single query takes the BLAS path; it must agree with FAISS's answer."""
    from mmsearch.vectors.faiss_index import BLAS_SINGLE_QUERY

    ids, vectors = _data(n=BLAS_SINGLE_QUERY + 5000, d=32)
    index = VectorIndex(32, use_gpu=False)
    index.add(ids, vectors)
    index.remove(ids[:5000:7])
    keep = np.ones(len(ids), dtype=bool)
    keep[:5000:7] = False
    query = vectors[9000:9001]
    scores, found = index.search(query, 25)
    ref_scores, ref_ids = _brute(ids[keep], vectors[keep], query, 25)
    np.testing.assert_array_equal(found, ref_ids)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-5, atol=1e-6)
