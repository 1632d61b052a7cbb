"""A plugin module registering :class:`HashEmbedder`: ``MMSEARCH_PLUGINS=mmsearch.testing.plugin``.

For CLI tests and demos that must not load a real model.
"""

from __future__ import annotations

from collections.abc import Callable

from ..embedder import Embedder
from .fakes import HashEmbedder, hookimpl


@hookimpl
def register_embedders(register: Callable[[Embedder], None]) -> None:
    register(HashEmbedder())
