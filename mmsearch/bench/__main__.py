"""``python -m mmsearch.bench NAME [ARGS…]``: a tiny dispatcher; each benchmark is a module here
with a ``main(argv) -> int``."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "coldsearch": "mmsearch.bench.coldsearch",
    "embed": "mmsearch.bench.embed",
    "query": "mmsearch.bench.query",
    "rclip": "mmsearch.bench.rclip",
    "ray": "mmsearch.bench.ray",
    "serve": "mmsearch.bench.serve",
    "vectors": "mmsearch.bench.vectors",
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in BENCHMARKS:
        print(f"usage: python -m mmsearch.bench {{{','.join(sorted(BENCHMARKS))}}} [--help]", file=sys.stderr)
        return 2
    return int(importlib.import_module(BENCHMARKS[argv[0]]).main(argv[1:]))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
