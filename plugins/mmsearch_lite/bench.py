"""``python -m mmsearch_lite.bench [--images N] [--sizes 2MP,12MP]``: indexing throughput of the
``lite`` embedder, model alone against end to end, through the core harness :mod:`mmsearch.bench.embed`."""

from __future__ import annotations

from mmsearch.bench.embed import run

from .embedder import LiteEmbedder


def main(argv: list[str] | None = None) -> int:
    return run([("lite", LiteEmbedder())], argv, "python -m mmsearch_lite.bench")


if __name__ == "__main__":
    raise SystemExit(main())
