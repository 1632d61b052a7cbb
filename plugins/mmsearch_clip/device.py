"""Device, precision and CPU thread choices for the CLIP model."""

from __future__ import annotations

import contextlib

import torch

from mmsearch.errors import ConfigError
from mmsearch.settings import env_name

from mmsearch.cores import available_cores

_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def pick_device(requested: str) -> torch.device:
    """``auto``: the first CUDA GPU when there is one, else the CPU. ``cpu``, ``cuda[:N]``, ``mps``."""
    requested = requested.strip().lower() or "auto"
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"device {requested!r} asked for (setting 'device' or 'clip.device', env {env_name('device')}), "
            "but torch sees no CUDA GPU here; use 'auto' or 'cpu'"
        )
    try:
        return torch.device(requested)
    except RuntimeError:
        raise ConfigError(f"device must be auto, cpu, cuda, cuda:N or mps, got {requested!r}") from None


def pick_precision(requested: str, device: torch.device) -> str:
    """``auto``: fp16 on a GPU (CLIP was trained in mixed precision; halves memory and time),
    fp32 on a CPU (CPU half-precision matmuls are slower than fp32 on most machines)."""
    if requested == "auto":
        return "fp16" if device.type == "cuda" else "fp32"
    return requested


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[object]:
    # open_clip casts most weights to the low-precision dtype; autocast covers the layers it
    # leaves in fp32 (timm and Hugging Face towers) so mixed dtypes never meet in one matmul.
    if precision not in _DTYPES or device.type not in ("cuda", "cpu"):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=_DTYPES[precision])


def configure_cpu_threads(requested: int) -> int:
    """Give the model every usable core, but never more.

    The model is the bottleneck (ViT-B/32: ~17 img/s on 2 cores against ~150 JPEG decodes/s per
    core), so it gets all cores; :meth:`ClipEmbedder.prepare` does PIL work only, so decode
    threads never start OpenMP teams of their own on top. torch's default counts the host's
    cores, which in a container with a CPU quota oversubscribes; hence the cap.
    """
    threads = requested if requested > 0 else min(torch.get_num_threads(), available_cores())
    if threads != torch.get_num_threads():
        torch.set_num_threads(threads)
    return threads

