"""Indexing throughput against the model alone: ``python -m mmsearch.bench embed --embedders NAMES``.

The harness for any installed embedder (by name, as ``mmsearch models`` lists them). Plugins run
it on their own embedders: ``python -m mmsearch_clip.bench`` (ViT-B-32 with random weights, which
cost what real ones do) and ``python -m mmsearch_lite.bench``. For each embedder and each photo
size, it measures in one run:

* model-only images/s: payloads decoded and preprocessed beforehand, only ``embed`` timed;
* end-to-end images/s: ``Engine.index`` on the same JPEG files (walk, hash, decode, preprocess,
  embed, SQL write, FAISS add);
* E = end-to-end / model-only (targets on 2 cores: ≥ 0.85 up to 2 MP, ≥ 0.75 at 12 MP);

and the single text-query encode latency p50/p99.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from ..embedder import Embedder

SIZES = {"2MP": (1632, 1224), "12MP": (4000, 3000)}
QUERIES = ("a dog on a beach", "red sports car", "birthday cake with candles", "mountain lake at dawn")


def make_photos(folder: Path, count: int, size: tuple[int, int]) -> list[Path]:
    """Distinct photo-like JPEGs: crops of scikit-image's sample photos, upscaled, lightly noised."""
    import skimage.data

    sources = [skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee(), skimage.data.rocket()]
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        src = sources[i % len(sources)]
        h, w = src.shape[:2]
        y, x = rng.integers(0, h // 4), rng.integers(0, w // 4)
        crop = Image.fromarray(src[y : y + 3 * h // 4, x : x + 3 * w // 4]).resize(size, Image.Resampling.BILINEAR)
        noisy = np.clip(np.asarray(crop, dtype=np.int16) + rng.integers(-6, 7, (size[1], size[0], 3)), 0, 255)
        path = folder / f"photo{i:03d}.jpg"
        Image.fromarray(noisy.astype(np.uint8)).save(path, quality=88)
        paths.append(path)
    return paths


def model_only(embedder, paths: list[Path]) -> float:  # type: ignore[no-untyped-def]
    from ..plugins import Registry, make_plugin_manager
    from ..settings import Settings
    from ..testing.contracts import source_for

    modality = Registry(make_plugin_manager(), Settings()).modality_for(paths[0])
    assert modality is not None, "no installed modality reads JPEG files"
    prepared = [embedder.prepare("image", next(modality.segments(source_for(p))).payload) for p in paths]
    embedder.embed("image", prepared[: embedder.batch_size], prepared=True)  # warm-up
    start = time.perf_counter()
    embedder.embed("image", prepared, prepared=True)
    return len(paths) / (time.perf_counter() - start)


def end_to_end(embedder, folder: Path, count: int) -> float:  # type: ignore[no-untyped-def]
    from ..engine import Engine
    from ..testing import fake_plugin

    with tempfile.TemporaryDirectory() as index, Engine.open(index, embedders=[embedder.name], plugins=[fake_plugin(embedder)]) as engine:
        start = time.perf_counter()
        summary = engine.index([folder])
        seconds = time.perf_counter() - start
    assert summary.added == count, summary
    return count / seconds


def text_latency(embedder, rounds: int = 60) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    for query in QUERIES:
        embedder.embed("text", [query])
    times = []
    for i in range(rounds):
        start = time.perf_counter()
        embedder.embed("text", [QUERIES[i % len(QUERIES)]])
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def installed(names: list[str]) -> Iterator[tuple[str, Embedder]]:
    """Installed embedders by name, as the registry builds them from the settings."""
    from ..plugins import Registry, make_plugin_manager
    from ..settings import Settings

    registry = Registry(make_plugin_manager(), Settings())
    for name in names:
        if name not in registry.embedders:
            raise SystemExit(f"no embedder named {name!r}; installed: {', '.join(sorted(registry.embedders))}")
        yield name, registry.embedders[name].obj


def run(embedders: Iterable[tuple[str, Embedder]], argv: list[str] | None, prog: str, default: str = "") -> int:
    """The benchmark for ``embedders`` (label, instance), or for ``--embedders`` when given."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=48, help="photos per size")
    parser.add_argument("--embedders", default=default, help="installed embedders by name, comma-separated")
    parser.add_argument("--sizes", default="2MP,12MP")
    args = parser.parse_args(argv)
    if args.embedders:
        embedders = installed([n for n in args.embedders.split(",") if n])
    # Only the image modality from entry points: the benchmark registers its own embedder instance.
    os.environ["MMSEARCH_LOAD_PLUGINS"] = "image"
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for size in args.sizes.split(","):
            folders[size] = Path(tmp) / size
            make_photos(folders[size], args.images, SIZES[size])
        print(f"{'embedder':28} {'photos':7} {'model img/s':>11} {'e2e img/s':>10} {'E':>6}   (cores: {os.cpu_count()})")
        for label, embedder in embedders:
            embedder.ensure_loaded()
            for size, folder in folders.items():
                paths = sorted(folder.glob("*.jpg"))
                model = model_only(embedder, paths)
                e2e = end_to_end(embedder, folder, len(paths))
                print(f"{label:28} {size:7} {model:11.1f} {e2e:10.1f} {e2e / model:6.2f}")
            p50, p99 = text_latency(embedder)
            print(f"{label:28} text query encode: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run((), argv, "python -m mmsearch.bench embed", default="lite")


if __name__ == "__main__":
    raise SystemExit(main())
