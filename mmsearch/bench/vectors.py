"""The vector stage alone, per backend, at library sizes up to millions of segments.

    python -m mmsearch.bench vectors [--sizes 100000,1000000] [--queries 50] [--threads 2]

Vectors are synthetic 512-d unit vectors drawn around 1000 random centres (real embeddings are
clustered; uniform random vectors are the worst case for any approximate index). Each size runs
in its own process so its peak memory is its own. Prints, per size: exact flat single-query
p50/p99 against a bare NumPy matrix-vector product over the same contiguous array (the ratio is
measured in one run, so a loaded machine slows both alike), batch throughput, IVF build time,
recall@10 against exact on fresh queries and p50/p99, open + first search with the cache file
present, adding 100 vectors, and peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

DIM = 512


def clustered(n: int, seed: int, centres: int = 1000, chunk: int = 100_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    middle = rng.standard_normal((centres, DIM)).astype(np.float32)
    out = np.empty((n, DIM), np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        # noise 1.2x the centre's norm: a same-cluster pair has cosine ~0.4 (1.5 left IVF no better than exact at 20k;
        # 0.9 flattered it: nprobe 1 reached 0.98)
        part = middle[rng.integers(0, centres, m)] + 1.2 * rng.standard_normal((m, DIM)).astype(np.float32)
        out[start : start + m] = part / np.linalg.norm(part, axis=1, keepdims=True)
    return out


def timings(fn: Callable[[np.ndarray], Any], queries: np.ndarray) -> tuple[float, float]:
    fn(queries[0])  # warm-up
    times = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - start)
    ms = np.array(times) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / exact.shape[1] for a, b in zip(found.tolist(), exact.tolist())]))


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int, block: int = 200_000) -> np.ndarray:
    """Brute-force top-k ids in blocks: the reference for recall without a flat index in memory."""
    best_s = np.full((len(queries), k), -np.inf, np.float32)
    best_i = np.full((len(queries), k), -1, np.int64)
    for start in range(0, len(vectors), block):
        s = np.concatenate([best_s, queries @ vectors[start : start + block].T], axis=1)
        i = np.concatenate([best_i, np.broadcast_to(np.arange(start, start + min(block, len(vectors) - start)), (len(queries), min(block, len(vectors) - start)))], axis=1)
        order = np.argsort(-s, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(s, order, axis=1), np.take_along_axis(i, order, axis=1)
    return best_i


def one_size(n: int, queries_n: int, approx: bool, flat_too: bool = True) -> dict[str, Any]:
    from ..vectors import backends, delta
    from ..vectors.flat import FlatIndex
    from ..vectors.ivf import IVFIndex

    out: dict[str, Any] = {"n": n}
    drawn = clustered(n + queries_n + 100, seed=1)  # queries and additions from the same clusters, not held
    vectors, queries, extra = drawn[:n], drawn[n : n + queries_n], drawn[n + queries_n :].copy()
    ids = np.arange(n, dtype=np.int64)

    if not flat_too:  # memory: the largest sizes measure IVF alone, against blockwise brute force
        return {**out, **ivf_only(n, ids, vectors, queries, extra, exact_top(vectors, queries, 10))}
    flat = FlatIndex(DIM)
    flat.add(ids, vectors)
    matrix = vectors  # the bare baseline: a contiguous float32 array and one BLAS gemv
    # interleaved, query by query, so load from other processes falls on both alike
    both = [timings(lambda q: matrix @ q, queries[i : i + 1].repeat(2, 0)) + timings(lambda q: flat.search(q[None, :], 10), queries[i : i + 1].repeat(2, 0))
            for i in range(queries_n)]
    gemv, flat_t = np.array([b[0] for b in both]), np.array([b[2] for b in both])
    out["numpy_gemv_p50_ms"], out["numpy_gemv_p99_ms"] = float(np.percentile(gemv, 50)), float(np.percentile(gemv, 99))
    out["flat_p50_ms"], out["flat_p99_ms"] = float(np.percentile(flat_t, 50)), float(np.percentile(flat_t, 99))
    out["flat_over_numpy"] = out["flat_p50_ms"] / out["numpy_gemv_p50_ms"]
    start = time.perf_counter()
    exact = flat.search(queries, 10)[1]
    out["flat_batch_ms_per_query"] = (time.perf_counter() - start) * 1000 / queries_n
    allowed = ids[::100]
    out["flat_filtered_1pct_p50_ms"] = timings(lambda q: flat.search(q[None, :], 10, allowed), queries[:10])[0]

    with tempfile.TemporaryDirectory(prefix="mmsearch-bench-vectors-") as tmp:
        path = Path(tmp) / "space-1-text.faiss"
        start = time.perf_counter()
        flat.save(path, {"generation": 1, "backend": "flat"})
        out["flat_save_s"] = time.perf_counter() - start
        start = time.perf_counter()
        loaded = backends.load(path, DIM)
        assert loaded is not None
        loaded[0].search(queries[:1], 10)
        out["flat_open_first_search_s"] = time.perf_counter() - start
        # the common case: open an index, add a few files. In memory, then one fsynced log record
        # (what SpaceIndexes.save now writes for a small change)
        start = time.perf_counter()
        loaded[0].add(np.arange(n, n + 100, dtype=np.int64), extra)
        out["flat_add100_s"] = time.perf_counter() - start
        record = delta.encode(delta.Delta(1, 2, np.zeros(0, np.int64), (("text", np.arange(n, n + 100, dtype=np.int64), extra),)))
        delta.append(Path(tmp) / "space-1.delta", [record], 0)
        out["flat_add100_and_log_s"] = time.perf_counter() - start
        del loaded
        start = time.perf_counter()
        flat.save(path, {"generation": 2, "backend": "flat"})
        out["flat_full_rewrite_s"] = time.perf_counter() - start

        if approx:
            del flat
            start = time.perf_counter()
            ivf = IVFIndex.build(DIM, ids, vectors)
            out["ivf_build_s"] = time.perf_counter() - start
            del vectors, matrix
            out["ivf_nlist"], out["ivf_nprobe"] = int(ivf.index.nlist), ivf.nprobe
            out["ivf_self_recall_at_10"] = ivf.recall
            out["ivf_recall_at_10"] = recall(ivf.search(queries, 10)[1], exact)
            out["ivf_p50_ms"], out["ivf_p99_ms"] = timings(lambda q: ivf.search(q[None, :], 10), queries)
            start = time.perf_counter()
            ivf.add(np.arange(n, n + 100, dtype=np.int64), extra)
            out["ivf_add100_s"] = time.perf_counter() - start
            ivf.save(path, {"generation": 1, "backend": "ivf"})
            del ivf
            start = time.perf_counter()
            loaded = backends.load(path, DIM)
            assert loaded is not None
            loaded[0].search(queries[:1], 10)
            out["ivf_open_first_search_s"] = time.perf_counter() - start
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return out


def ivf_only(n: int, ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, extra: np.ndarray, exact: np.ndarray) -> dict[str, Any]:
    from ..vectors.ivf import IVFIndex

    out: dict[str, Any] = {}
    start = time.perf_counter()
    ivf = IVFIndex.build(DIM, ids, vectors)
    out["ivf_build_s"] = time.perf_counter() - start
    out["ivf_nlist"], out["ivf_nprobe"], out["ivf_self_recall_at_10"] = int(ivf.index.nlist), ivf.nprobe, ivf.recall
    out["ivf_recall_at_10"] = recall(ivf.search(queries, 10)[1], exact)
    out["ivf_p50_ms"], out["ivf_p99_ms"] = timings(lambda q: ivf.search(q[None, :], 10), queries)
    start = time.perf_counter()
    ivf.add(np.arange(n, n + 100, dtype=np.int64), extra)
    out["ivf_add100_s"] = time.perf_counter() - start
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return out


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmsearch.bench vectors", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-approx", action="store_true", help="exact flat only (skips the IVF build)")
    parser.add_argument("--approx-only-from", type=int, default=2_000_000,
                        help="from this size on, measure IVF alone (a flat copy beside it would not fit in memory)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process of one size
    args = parser.parse_args(list(argv))
    import faiss

    faiss.omp_set_num_threads(args.threads)
    if args.one:
        print(json.dumps(one_size(args.one, args.queries, not args.no_approx, args.one < args.approx_only_from)))
        return 0
    for size in (int(s) for s in args.sizes.split(",")):
        child = [sys.executable, "-m", "mmsearch.bench", "vectors", "--one", str(size), "--queries", str(args.queries),
                 "--threads", str(args.threads), "--approx-only-from", str(args.approx_only_from)] + (["--no-approx"] if args.no_approx else [])
        done = subprocess.run(child, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"size {size}: failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    return 0
