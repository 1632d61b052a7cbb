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
        part = middle[rng.integers(0, centres, m)] + 0.9 * rng.standard_normal((m, DIM)).astype(np.float32)
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


def one_size(n: int, queries_n: int, approx: bool) -> dict[str, Any]:
    from ..vectors import backends
    from ..vectors.faiss_index import VectorIndex
    from ..vectors.ivf import IVFIndex

    out: dict[str, Any] = {"n": n}
    drawn = clustered(n + queries_n + 100, seed=1)  # queries and additions from the same clusters, not held
    vectors, queries, extra = drawn[:n], drawn[n : n + queries_n], drawn[n + queries_n :]
    ids = np.arange(n, dtype=np.int64)

    flat = VectorIndex(DIM, use_gpu=False)
    flat.add(ids, vectors)
    matrix = vectors  # the bare baseline: a contiguous float32 array and one BLAS gemv
    out["numpy_gemv_p50_ms"], out["numpy_gemv_p99_ms"] = timings(lambda q: matrix @ q, queries)
    out["flat_p50_ms"], out["flat_p99_ms"] = timings(lambda q: flat.search(q[None, :], 10), queries)
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
        del loaded
        start = time.perf_counter()
        flat.add(np.arange(n, n + 100, dtype=np.int64), extra)
        out["flat_add100_s"] = time.perf_counter() - start
        flat.save(path, {"generation": 2, "backend": "flat"})
        out["flat_add100_and_save_s"] = time.perf_counter() - start

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


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmsearch.bench vectors", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-approx", action="store_true", help="exact flat only (skips the IVF build)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process of one size
    args = parser.parse_args(list(argv))
    import faiss

    faiss.omp_set_num_threads(args.threads)
    if args.one:
        print(json.dumps(one_size(args.one, args.queries, not args.no_approx)))
        return 0
    for size in (int(s) for s in args.sizes.split(",")):
        child = [sys.executable, "-m", "mmsearch.bench", "vectors", "--one", str(size), "--queries", str(args.queries),
                 "--threads", str(args.threads)] + (["--no-approx"] if args.no_approx else [])
        done = subprocess.run(child, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"size {size}: failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    return 0
