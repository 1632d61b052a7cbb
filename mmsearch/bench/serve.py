"""Warm HTTP search latency, and a CLI search with the server up against one without.

    python -m mmsearch.bench serve [--sizes 10000,100000] [--queries 50] [--cli-runs 3] [--embedder lite]

For each size, a synthetic library (media with five text segments of pseudo-words, random unit
vectors in the embedder's space, written straight into SQL: ``synthetic.py``) is served by a real
``mmsearch serve`` process on 127.0.0.1. Measured from a client process:

* warm: ``GET /api/search`` latency over keep-alive HTTP (encode + legs + fusion + JSON), p50/p99,
  and the server's CPU time per search (wall time on a shared machine also measures the others);
* CLI: wall time of ``mmsearch search WORDS`` finding the server through its discovery file,
  and of ``mmsearch search --no-server WORDS`` (loads the model, opens the index), in the same run.

The embedder is real (default ``lite``: MiniLM text tower, offline), so the cold CLI pays a real
model load; only the stored vectors are random (speed does not depend on them).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import numpy as np

SEGMENTS_PER_MEDIA = 5


def _cli() -> list[str]:
    # This interpreter's mmsearch (what the console script runs), not whichever is first on PATH.
    return [sys.executable, "-c", "import sys; from mmsearch.cli import main; sys.exit(main())"]


def build(directory: Path, size: int, embedder: str, seed: int = 0) -> list[str]:
    """Write the library and bring its vector cache up to date (as any index in use would be)."""
    from ..engine import Engine
    from .synthetic import write_library

    rng = np.random.default_rng(seed)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    vocab = ["".join(rng.choice(letters, size=int(rng.integers(4, 9)))) for _ in range(5000)]
    media = [(f"lib/{i // 1000:03d}/{vocab[i % len(vocab)]}-{i}.txt", "text",
              [" ".join(rng.choice(vocab, size=12)) for _ in range(SEGMENTS_PER_MEDIA)]) for i in range(size // SEGMENTS_PER_MEDIA)]
    with Engine.open(directory, embedders=[embedder]) as engine:
        dim = int(engine.embedders[0].dim)

        def vectorize(texts: list[str]) -> np.ndarray:
            v = rng.standard_normal((len(texts), dim)).astype(np.float32)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

        write_library(engine, "/bench", media, vectorize)
        engine.search(vocab[0], k=1, min_score=0)  # builds the FAISS cache, saved on close
    return [" ".join(rng.choice(vocab, size=int(rng.integers(1, 4)))) for _ in range(400)]


def start_server(directory: Path, timeout: float = 600) -> tuple[subprocess.Popen[bytes], str]:
    from ..server import discovery

    proc = subprocess.Popen([*_cli(), "--index", str(directory), "serve", "--port", "0"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = discovery.live(directory)
        if found is not None and found.pid == proc.pid:
            return proc, found.url
        if proc.poll() is not None:
            raise RuntimeError(f"mmsearch serve exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("mmsearch serve did not start in time")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux): the server's own cost per search,
    which does not depend on how busy the rest of the machine is, unlike wall time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def warm_latency(url: str, queries: list[str]) -> tuple[float, float]:
    target = urlparse(url)
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
    times = []
    for n, query in enumerate(queries):
        began = time.perf_counter()
        conn.request("GET", "/api/search?" + urlencode({"q": query, "k": 10, "min_score": 0}))
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"search failed: {body[:300]!r}")
        if n >= 3:  # the first few warm the connection and caches
            times.append(time.perf_counter() - began)
        json.loads(body)
    ms = np.asarray(times) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def cli_seconds(directory: Path, query: str, runs: int, *extra: str) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run([*_cli(), "--index", str(directory), "search", *extra, query, "-k", "5", "--min-score", "0"],
                              capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - began)
        out = done.stdout
    return float(np.median(times)), out


def run(size: int, n_queries: int, cli_runs: int, embedder: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mmsearch-bench-serve-") as tmp:
        directory = Path(tmp)
        began = time.perf_counter()
        queries = build(directory, size, embedder)
        built = time.perf_counter() - began
        proc, url = start_server(directory)
        try:
            cpu_before = cpu_seconds(proc.pid)
            p50, p99 = warm_latency(url, queries[: n_queries + 3])
            cpu_ms = (cpu_seconds(proc.pid) - cpu_before) * 1000 / (n_queries + 3)
            warm_s, warm_out = cli_seconds(directory, queries[-1], cli_runs)
            cold_s, cold_out = cli_seconds(directory, queries[-1], cli_runs, "--no-server")
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(60)
        from ..server import discovery

        return {"size": size, "p50": p50, "p99": p99, "cpu_ms": cpu_ms, "load": os.getloadavg()[0], "cli_server_s": warm_s, "cli_cold_s": cold_s,
                "same_output": warm_out == cold_out, "built_s": built,
                "discovery_removed": not (directory / discovery.FILE).exists()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmsearch.bench serve", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="segment counts, comma-separated")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--cli-runs", type=int, default=3, help="CLI searches per mode (median reported)")
    parser.add_argument("--embedder", default="lite")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"{'segments':>9} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms':>7} {'CLI+server s':>13} {'CLI cold s':>11} {'ratio':>6}  same output")
    for size in (int(s) for s in args.sizes.split(",")):
        r = run(size, args.queries, args.cli_runs, args.embedder)
        print(f"{r['size']:>9} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['cpu_ms']:>7.1f} {r['cli_server_s']:>13.2f} {r['cli_cold_s']:>11.2f} "
              f"{r['cli_cold_s'] / r['cli_server_s']:>5.1f}x  {r['same_output']} (build {r['built_s']:.0f} s; load average {r['load']:.1f} on {os.cpu_count()} cores)", flush=True)
        if not r["discovery_removed"]:
            print("  warning: the server left its discovery file behind", flush=True)
    return 0
