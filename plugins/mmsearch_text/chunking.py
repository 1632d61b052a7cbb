"""Moved to the core so every modality shares it: use :mod:`mmsearch.chunking`."""

from mmsearch.chunking import chunk_spans

__all__ = ["chunk_spans"]
