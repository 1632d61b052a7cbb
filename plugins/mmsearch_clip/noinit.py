"""Build a model without random initialisation when a checkpoint will overwrite every weight.

open_clip builds the model (each layer drawing random weights) and only then loads the
checkpoint over them: for ViT-B/32 that is about 150 M random draws, seconds on a small CPU, for
numbers never used. Like Hugging Face's ``no_init_weights``, this turns torch's in-place init
functions into no-ops while the model is built; the memory is still allocated (``torch.empty``)
and every tensor is then filled by the checkpoint, which open_clip loads with ``strict=True``, so a
weight the checkpoint lacks is an error, never left unset. Buffers computed at build time (the
causal mask) do not go through these functions and are unaffected.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

_INIT_FUNCTIONS = (
    "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
)


def _keep(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    return tensor


@contextlib.contextmanager
def skip_init() -> Iterator[None]:
    """Inside: ``torch.nn.init.*_`` leave tensors as they are. Not thread-safe (a global patch),
    so only the model build runs inside it."""
    saved = {name: getattr(torch.nn.init, name) for name in _INIT_FUNCTIONS if hasattr(torch.nn.init, name)}
    try:
        for name in saved:
            setattr(torch.nn.init, name, _keep)
        yield
    finally:
        for name, function in saved.items():
            setattr(torch.nn.init, name, function)
