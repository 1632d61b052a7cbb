"""``python -m mmsearch_clip.bench [--images N] [--sizes 2MP,12MP]``: indexing throughput of CLIP
ViT-B-32 with *random* weights (they cost what real ones do), model alone against end to end,
through the core harness :mod:`mmsearch.bench.embed`."""

from __future__ import annotations

from mmsearch.bench.embed import run

from .config import ClipConfig
from .embedder import ClipEmbedder


def main(argv: list[str] | None = None) -> int:
    embedder = ClipEmbedder(ClipConfig(arch="ViT-B-32", tag=""), random_init=True)
    return run([("ViT-B-32 (random weights)", embedder)], argv, "python -m mmsearch_clip.bench")


if __name__ == "__main__":
    raise SystemExit(main())
