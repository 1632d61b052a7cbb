"""Model-only speed of a CLIP architecture with random weights, for the project benchmark.

Random weights cost exactly what real ones do, and need no download. Image preprocessing is
done before timing starts: the figure is what the model alone sustains, the ceiling for indexing.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image

from .config import ClipConfig
from .embedder import ClipEmbedder

QUERIES = ("a dog on a beach", "red sports car", "birthday cake with candles", "mountain lake at dawn")


@dataclass(frozen=True)
class ClipSpeed:
    arch: str
    device: str
    precision: str
    threads: int
    batch_size: int
    images_per_s: float
    text_p50_ms: float
    text_p99_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure_speed(
    arch: str = "ViT-B-32",
    *,
    batch_size: int = 16,
    image_batches: int = 4,
    text_queries: int = 100,
    device: str = "cpu",
    precision: str = "auto",
    threads: int = 0,
) -> ClipSpeed:
    """Images/s over ``image_batches`` batches and single-query text latency p50/p99 (ms)."""
    embedder = ClipEmbedder(
        ClipConfig(arch=arch, tag="", device=device, precision=precision, threads=threads, batch_size=batch_size),
        random_init=True,
    )
    embedder.ensure_loaded()
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)) for _ in range(batch_size)]
    batch = [embedder.prepare("image", image) for image in images]
    embedder.embed_batch("image", batch)  # warm-up: allocator, kernels, lazy inits
    _sync(embedder)
    start = time.perf_counter()
    for _ in range(image_batches):
        embedder.embed_batch("image", batch)
    _sync(embedder)
    images_per_s = batch_size * image_batches / (time.perf_counter() - start)

    for query in QUERIES:
        embedder.embed_batch("text", [query])
    latencies = []
    for i in range(text_queries):
        start = time.perf_counter()
        embedder.embed_batch("text", [QUERIES[i % len(QUERIES)]])  # returns on the host: synced
        latencies.append((time.perf_counter() - start) * 1000.0)
    return ClipSpeed(
        arch=arch,
        device=str(embedder.device),
        precision=embedder.precision,
        threads=embedder.threads,
        batch_size=batch_size,
        images_per_s=round(images_per_s, 2),
        text_p50_ms=round(float(np.percentile(latencies, 50)), 2),
        text_p99_ms=round(float(np.percentile(latencies, 99)), 2),
    )


def _sync(embedder: ClipEmbedder) -> None:
    if embedder.device is not None and embedder.device.type == "cuda":
        import torch

        torch.cuda.synchronize(embedder.device)


if __name__ == "__main__":  # python -m mmsearch_clip.speed [ARCH]
    import json
    import sys

    print(json.dumps(measure_speed(sys.argv[1] if len(sys.argv) > 1 else "ViT-B-32").to_dict()))
