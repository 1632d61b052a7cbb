"""End-to-end text-query latency: encode + legs (vector, keyword) + fusion + metadata.

    python -m mmsearch.bench query [--sizes 10000,100000] [--queries 40] [--threads 2]

The text tower is open_clip's ViT-B-32 with *random* weights (``pretrained=None``: never a
download; speed does not depend on the weights). The library is synthetic: media with five text
segments of pseudo-words and random unit vectors, written straight into SQL (``synthetic.py``);
the engine rebuilds FAISS from SQL on open. Prints p50/p99 per size and each stage's share.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..embedder import Embedder
from ..engine import Engine
from ..testing import fake_plugin
from ..types import TEXT
from .synthetic import write_library

DIM = 512
SEGMENTS_PER_MEDIA = 5


class RandomClipText(Embedder):
    """ViT-B-32's text tower, randomly initialised: the real architecture and cost."""

    name = "bench-clip"
    kinds = frozenset({TEXT})
    dim = DIM
    model = "ViT-B-32/random"

    def load(self) -> None:
        import open_clip
        import torch

        self._torch = torch
        model, _, _ = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
        self._model = model.eval()
        self._tokenizer = open_clip.get_tokenizer("ViT-B-32")
        self._encode = model.encode_text
        try:  # the clip plugin's production path: run the causal tower without the padding
            from mmsearch_clip.textfast import encode_text_trimmed, supports_trimming

            if supports_trimming(model):
                self._encode = lambda tokens: encode_text_trimmed(model, tokens)
        except ImportError:
            pass

    def embed_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        with self._torch.inference_mode():
            return self._encode(self._tokenizer(list(payloads))).float().numpy()


def _words(rng: np.random.Generator, count: int) -> list[str]:
    letters = list("abcdefghijklmnopqrstuvwxyz")
    return ["".join(rng.choice(letters, size=int(rng.integers(4, 9)))) for _ in range(count)]


def build(size: int, directory: Path, embedder: RandomClipText, seed: int = 0) -> tuple[Engine, list[str]]:
    rng = np.random.default_rng(seed)
    vocab = _words(rng, 5000)
    media = [(f"lib/{i // 1000:03d}/{vocab[i % len(vocab)]}-{i}.txt", "text",
              [" ".join(rng.choice(vocab, size=12)) for _ in range(SEGMENTS_PER_MEDIA)]) for i in range(size // SEGMENTS_PER_MEDIA)]

    def vectorize(texts: list[str]) -> np.ndarray:
        v = rng.standard_normal((len(texts), DIM)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    engine = Engine.open(directory, embedders=[embedder.name], plugins=[fake_plugin(embedder)])
    write_library(engine, "/bench", media, vectorize)
    queries = [" ".join(rng.choice(vocab, size=int(rng.integers(1, 4)))) for _ in range(200)]
    return engine, queries


def run(size: int, n_queries: int, embedder: RandomClipText) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mmsearch-bench-") as tmp:
        t0 = time.perf_counter()
        engine, queries = build(size, Path(tmp), embedder)
        with engine:
            engine.search(queries[0], k=10, min_score=0)  # FAISS rebuild, bank embedding, warm-up
            built = time.perf_counter() - t0
            totals, stages = [], {}
            for query in queries[1 : n_queries + 1]:
                start = time.perf_counter()
                engine.search(query, k=10, min_score=0)
                totals.append(time.perf_counter() - start)
                for stage, seconds in engine._searcher.timings.items():
                    stages[stage] = stages.get(stage, 0.0) + seconds
    ms = np.asarray(totals) * 1000
    whole = sum(totals)
    return {"size": size, "p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)), "built_s": built,
            "shares": {s: v / whole for s, v in stages.items()}}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmsearch.bench query", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="segment counts, comma-separated")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2, help="torch and FAISS threads")
    args = parser.parse_args(argv)
    import faiss
    import torch

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    embedder = RandomClipText()
    print(f"{'segments':>9} {'p50 ms':>8} {'p99 ms':>8}  stage shares of total time (build s)")
    for size in (int(s) for s in args.sizes.split(",")):
        r = run(size, args.queries, embedder)
        shares = "  ".join(f"{s} {v:.0%}" for s, v in r["shares"].items())
        print(f"{r['size']:>9} {r['p50']:>8.1f} {r['p99']:>8.1f}  {shares}  ({r['built_s']:.0f} s)", flush=True)
    return 0
