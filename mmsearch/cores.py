"""How many CPU cores this process may use, and whether an NVIDIA GPU is there, without importing torch
(the ONNX paths need both)."""

from __future__ import annotations

import os
from pathlib import Path


def available_cores() -> int:
    """Cores this process may really use: CPU affinity, then a cgroup v2 quota (containers)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def nvidia_device_present() -> bool:
    """An NVIDIA GPU this process could use: a device node, not hidden by CUDA_VISIBLE_DEVICES."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return False
    return any(name.startswith("nvidia") and name[6:].isdigit() for name in _dev_names())


def _dev_names() -> list[str]:
    try:
        return os.listdir("/dev")
    except OSError:
        return []
