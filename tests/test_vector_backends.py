"""Every vector backend answers like brute force behind the one interface (flat and torch exactly,
IVF at its measured recall), keeps filtered queries full, and survives its cache file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmsearch.embedder import l2_normalize
from mmsearch.errors import ConfigError
from mmsearch.vectors import backends
from mmsearch.vectors.base import VectorBackend
from mmsearch.vectors.ivf import IVFIndex
from mmsearch.vectors.torch_index import TorchIndex, cuda_available


def _clustered(n: int, d: int = 32, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((40, d))
    vectors = l2_normalize((centers[rng.integers(0, 40, n)] + 0.8 * rng.standard_normal((n, d))).astype(np.float32))
    return rng.choice(10**9, size=n, replace=False).astype(np.int64), vectors


def _brute(ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return ids[np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k]]


def _make(name: str, ids: np.ndarray, vectors: np.ndarray) -> VectorBackend:
    if name == "ivf":
        return IVFIndex.build(vectors.shape[1], ids, vectors)
    index = TorchIndex(vectors.shape[1], device="cpu") if name == "torch" else backends.create(name, vectors.shape[1])
    index.add(ids, vectors)
    return index


@pytest.mark.parametrize("name", ["flat", "torch"])
def test_exact_backends_match_brute_force_with_and_without_filter(name: str) -> None:
    ids, vectors = _clustered(3000)
    index = _make(name, ids, vectors)
    queries = vectors[:7] + 0.01
    np.testing.assert_array_equal(index.search(queries, 10)[1], _brute(ids, vectors, queries, 10))
    allowed = ids[::97]
    found = index.search(queries, 10, allowed)[1]
    np.testing.assert_array_equal(found, _brute(allowed, vectors[::97], queries, 10))
    assert index.remove(ids[:100]) == 100 and len(index) == 2900
    assert not set(index.search(vectors[:5], 50)[1].ravel()) & set(ids[:100].tolist())
    np.testing.assert_allclose(index.vectors(ids[200:203]), vectors[200:203])


def test_ivf_measures_its_recall_and_meets_the_target() -> None:
    ids, vectors = _clustered(20_000)
    index = IVFIndex.build(32, ids, vectors)
    info = index.info()
    assert info["recall_at_10"] >= 0.95 and info["nprobe"] < info["nlist"], info
    queries = vectors[5000:5100]
    found, exact = index.search(queries, 10)[1], _brute(ids, vectors, queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found.tolist(), exact.tolist())])
    assert recall >= 0.9, f"recall@10 on fresh queries {recall:.3f}"


@pytest.mark.parametrize("stride", [400, 3])  # a small allowed set (scored exactly) and a large one (id selector)
def test_ivf_filtered_query_returns_a_full_top_k_of_allowed_ids(stride: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from mmsearch.vectors import ivf

    monkeypatch.setattr(ivf, "EXACT_FILTER_MAX", 1000)
    ids, vectors = _clustered(12_000)
    index = IVFIndex.build(32, ids, vectors)
    allowed = np.concatenate([ids[::stride], [123]])  # 123: an id the index does not hold
    _, found = index.search(vectors[:3], 10, allowed)
    assert (found >= 0).all() and set(found.ravel()) <= set(ids[::stride].tolist())


def test_ivf_retrains_when_the_library_doubles_and_stays_searchable() -> None:
    ids, vectors = _clustered(4000)
    index = IVFIndex.build(32, ids[:1500], vectors[:1500])
    first_lists = index.info()["nlist"]
    index.add(ids[1500:], vectors[1500:])
    assert index.trained_at == 4000 and index.info()["nlist"] > first_lists
    np.testing.assert_array_equal(index.search(vectors[3999:4000], 1)[1][0], ids[3999:4000])


@pytest.mark.parametrize("name", ["flat", "ivf", "torch"])
def test_every_backend_round_trips_through_its_cache_file(tmp_path: Path, name: str) -> None:
    ids, vectors = _clustered(2000)
    index = _make(name, ids, vectors)
    path = tmp_path / "space-1-text.faiss"
    index.save(path, {"generation": 5, "backend": backends.concrete_name(index)})
    loaded = backends.load(path, 32)
    assert loaded is not None and loaded[1]["generation"] == 5
    np.testing.assert_array_equal(loaded[0].search(vectors[:4], 10)[1], index.search(vectors[:4], 10)[1])
    path.write_bytes(path.read_bytes()[:-8])
    assert backends.load(path, 32) is None, "a truncated file is never trusted"


def test_auto_moves_a_growing_kind_from_flat_to_ivf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "APPROX_FROM", 3000)
    monkeypatch.setattr(backends, "gpu_count", lambda: 0)
    ids, vectors = _clustered(4000)
    index = backends.convert(_make("flat", ids[:2000], vectors[:2000]), backends.wanted("auto", 2000))
    assert backends.concrete_name(index) == "flat"
    assert backends.wanted("auto", 4000) == "ivf"
    moved = backends.convert(_make("flat", ids, vectors), "ivf")
    assert backends.concrete_name(moved) == "ivf" and len(moved) == 4000


def test_unknown_or_unavailable_backend_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="vectors.backend.*one of auto, flat, ivf"):
        backends.check_backend("annoy")
    monkeypatch.setattr(backends, "gpu_count", lambda: 0)
    with pytest.raises(ConfigError, match="sees no GPU"):
        backends.check_backend("faiss-gpu")


@pytest.mark.skipif(not cuda_available(), reason="no CUDA device on this machine; scripts/gpu_check.sh covers it where there is one")
def test_torch_cuda_matches_cpu() -> None:
    ids, vectors = _clustered(5000)
    cpu, gpu = TorchIndex(32, device="cpu"), TorchIndex(32, device="cuda")
    cpu.add(ids, vectors)
    gpu.add(ids, vectors)
    np.testing.assert_array_equal(cpu.search(vectors[:9], 10)[1], gpu.search(vectors[:9], 10)[1])


def test_flat_batches_in_blocks_and_fills_removal_holes_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    from mmsearch.vectors import flat

    monkeypatch.setattr(flat, "BLOCK", 256)  # several blocks, merged per query
    ids, vectors = _clustered(3000)
    index = _make("flat", ids, vectors)
    gone = np.concatenate([ids[5:40], ids[-30:]])  # holes in the middle and at the end
    index.remove(gone)
    keep = ~np.isin(ids, gone)
    queries = vectors[100:140]
    np.testing.assert_array_equal(index.search(queries, 10)[1], _brute(ids[keep], vectors[keep], queries, 10))
    np.testing.assert_allclose(index.vectors(ids[keep][-5:]), vectors[keep][-5:])


def test_flat_never_ranks_a_non_finite_vector() -> None:
    index = backends.create("flat", 4)
    vectors = np.eye(4, dtype=np.float32)
    vectors[2], vectors[3] = [np.inf, 0, 0, 0], np.nan
    index.add(np.array([10, 11, 12, 13]), vectors)
    for allowed in (None, np.array([10, 12, 13])):
        scores, found = index.search(np.ones((1, 4), dtype=np.float32) / 2, 4, allowed)
        assert not {12, 13} & set(found[0].tolist()) and 10 in found[0]


def test_a_cache_written_by_faiss_flat_is_read_and_moved_to_numpy_flat(tmp_path: Path) -> None:
    from mmsearch.vectors.faiss_index import VectorIndex

    ids, vectors = _clustered(500)
    old = VectorIndex(32, use_gpu=False)
    old.add(ids, vectors)
    old.save(tmp_path / "space-1-text.faiss", {"generation": 3, "kind": "text"})  # no backend: as before
    loaded = backends.load(tmp_path / "space-1-text.faiss", 32)
    assert loaded is not None and loaded[1]["generation"] == 3
    moved = backends.convert(loaded[0], "flat")
    assert backends.concrete_name(moved) == "flat"
    np.testing.assert_array_equal(moved.search(vectors[:3], 5)[1], old.search(vectors[:3], 5)[1])


def test_flat_loaded_from_its_file_takes_additions_and_removals_without_touching_the_file(tmp_path: Path) -> None:
    ids, vectors = _clustered(2000)
    first = _make("flat", ids[:1500], vectors[:1500])
    path = tmp_path / "space-1-text.faiss"
    first.save(path, {"generation": 1, "backend": "flat"})
    on_disk = path.read_bytes()
    loaded = backends.load(path, 32)
    assert loaded is not None
    index = loaded[0]
    index.add(ids[1500:], vectors[1500:])  # into the tail, beside the memory-mapped base
    gone = np.concatenate([ids[10:20], ids[1490:1510], ids[-5:]])  # base, both sides, tail
    assert index.remove(gone) == len(gone)
    keep = ~np.isin(ids, gone)
    queries = vectors[700:720]
    for allowed in (None, ids[::7]):
        got = index.search(queries, 10, allowed)[1]
        mask = keep & (np.isin(ids, allowed) if allowed is not None else True)
        np.testing.assert_array_equal(got, _brute(ids[mask], vectors[mask], queries, 10))
    np.testing.assert_allclose(index.vectors(ids[keep][[0, 1600 - len(gone)]]), vectors[keep][[0, 1600 - len(gone)]])
    assert path.read_bytes() == on_disk, "the cache file is only ever replaced, never written in place"


@pytest.mark.parametrize("name", ["flat", "ivf", "torch"])
def test_a_flipped_byte_in_a_cache_file_is_never_trusted(tmp_path: Path, name: str) -> None:
    ids, vectors = _clustered(500)
    path = tmp_path / "space-1-text.faiss"
    _make(name, ids, vectors).save(path, {"generation": 1, "backend": name})
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # same size, wrong checksum
    path.write_bytes(bytes(data))
    assert backends.load(path, 32) is None


def test_a_checked_cache_file_is_read_from_what_was_checked_even_if_replaced(tmp_path: Path) -> None:
    from mmsearch.vectors.base import open_sealed

    ids, vectors = _clustered(500)
    path = tmp_path / "space-1-text.faiss"
    IVFIndex.build(32, ids, vectors).save(path, {"generation": 1, "backend": "ivf"})
    checked = path.read_bytes()
    sealed = open_sealed(path)
    assert sealed is not None and sealed.stamp["generation"] == 1
    replacement = tmp_path / "other"
    replacement.write_bytes(b"x" * 100)
    replacement.replace(path)  # a writer swaps the file in between the check and the read
    with sealed:
        assert sealed.handle.read() == checked
