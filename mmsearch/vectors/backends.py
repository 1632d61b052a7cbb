"""The chooser: which backend holds a space's vectors, from the ``vectors.backend`` setting.

``auto`` keeps exact flat search while it is fast enough and switches to IVF from
``APPROX_FROM`` vectors, and uses FAISS GPU flat when the installed FAISS sees a GPU. Measured with
``python -m mmsearch.bench vectors`` (512-d, 2 loaded cores): exact single-query p50 is ~15 ms at
100k and grows linearly (~30 ms at 200k), IVF stays under 1 ms; below 200k the exact answer is
worth its cost (IVF gives up 3-5 points of recall@10 and a training pass).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .base import VectorBackend, read_stamp
from .faiss_index import VectorIndex, gpu_count
from .flat import FlatIndex

BACKENDS = ("auto", "flat", "ivf", "torch", "faiss-gpu")

#: ``auto`` switches a kind's index from exact flat to IVF at this many vectors.
APPROX_FROM = 200_000


def check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise ConfigError(f"setting 'vectors.backend' (env MMSEARCH_VECTORS_BACKEND) must be one of {', '.join(BACKENDS)}, got {name!r}")
    if name == "faiss-gpu" and gpu_count() == 0:
        raise ConfigError("setting 'vectors.backend' is 'faiss-gpu' but the installed FAISS sees no GPU; "
                          "install the 'gpu' extra on a CUDA machine, or choose 'torch' or 'auto'")
    return name


def wanted(setting: str, count: int) -> str:
    """The concrete backend for a kind holding ``count`` vectors."""
    if setting != "auto":
        return setting
    if gpu_count() > 0:
        return "faiss-gpu"
    return "ivf" if count >= APPROX_FROM else "flat"


def create(name: str, dim: int) -> VectorBackend:
    """An empty index of a concrete backend (IVF starts empty and trains on its first add)."""
    if name == "flat":
        return FlatIndex(dim)
    if name == "faiss-gpu":
        return VectorIndex(dim, use_gpu=True)
    if name == "ivf":
        from .ivf import IVFIndex

        return IVFIndex(dim)
    if name == "torch":
        from .torch_index import TorchIndex

        return TorchIndex(dim)
    raise ConfigError(f"unknown vector backend {name!r}; choose one of {', '.join(BACKENDS)}")


def concrete_name(index: VectorBackend) -> str:
    return str(index.info()["backend"])


def convert(index: VectorBackend, name: str, batch: int = 100_000) -> VectorBackend:
    """The same vectors in backend ``name`` (streamed in batches, no second full copy for flat)."""
    if concrete_name(index) == name:
        return index
    target = create(name, index.dim)
    ids = np.sort(index.ids())
    if name == "ivf" and len(ids):
        from .ivf import IVFIndex

        return IVFIndex.build(index.dim, ids, index.vectors(ids))  # training wants every vector at once
    for start in range(0, len(ids), batch):
        part = ids[start : start + batch]
        target.add(part, index.vectors(part))
    return target


_LOADERS: dict[str, Callable[[Path, int], tuple[VectorBackend, dict] | None]] = {}


def load(path: Path, dim: int) -> tuple[VectorBackend, dict] | None:
    """The cached index of whichever backend wrote ``path``, or ``None`` (missing or damaged)."""
    stamp = read_stamp(path)
    if stamp is None:
        return None
    name = stamp.get("backend")
    if name == "flat":
        return FlatIndex.load(path, dim)
    if name in (None, "faiss-gpu"):  # None: a cache written before backends existed (FAISS flat)
        return VectorIndex.load(path, dim, use_gpu=name == "faiss-gpu")
    if name == "ivf":
        from .ivf import IVFIndex

        return IVFIndex.load(path, dim)
    if name == "torch":
        from .torch_index import TorchIndex

        return TorchIndex.load(path, dim)
    return None
