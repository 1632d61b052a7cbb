"""How many CPU cores this process may use, without importing torch (the ONNX text path needs it too)."""

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
