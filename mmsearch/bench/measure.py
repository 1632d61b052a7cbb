"""Whole-process measurements for side-by-side benchmarks: wall time, CPU time and peak memory of
a command and everything it starts, and the medians and ratios a comparison prints."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    """One process run: seconds of wall clock and of CPU (user + system), peak resident MB."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float


@dataclass(frozen=True)
class Row:
    """One metric of a comparison: our median, theirs, and ours/theirs."""

    metric: str
    ours: float
    theirs: float

    @property
    def ratio(self) -> float:
        return self.ours / self.theirs if self.theirs else float("inf")


class CommandFailed(RuntimeError):
    pass


def run_measured(cmd: Sequence[str], *, cwd: Path, env: dict[str, str], log: Path, cores: set[int] | None = None) -> Sample:
    """Run ``cmd`` to completion; its output goes to ``log``. ``cores`` pins it (and so its thread
    pools, which size themselves from the affinity) to those CPUs.

    ``os.wait4`` reports the child's rusage with its own waited-for children folded in, so a tool
    that forks workers is charged for them; ``ru_maxrss`` is then the largest of them (KiB on Linux).
    """
    pin = (lambda: os.sched_setaffinity(0, cores)) if cores else None
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=pin)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise CommandFailed(f"{' '.join(cmd)} exited {proc.returncode} (log {log}): {' | '.join(tail)}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def summarise(pairs: Sequence[tuple[Sample, Sample]], items: int | None = None) -> list[Row]:
    """Medians of (ours, theirs) pairs per metric. With ``items`` (files indexed per run), also
    items per second of wall time and per CPU-second, where higher is better."""
    ours, theirs = [p[0] for p in pairs], [p[1] for p in pairs]
    rows = [
        Row("wall s", median([s.wall_s for s in ours]), median([s.wall_s for s in theirs])),
        Row("CPU s", median([s.cpu_s for s in ours]), median([s.cpu_s for s in theirs])),
        Row("peak RSS MB", median([s.peak_rss_mb for s in ours]), median([s.peak_rss_mb for s in theirs])),
    ]
    if items:
        rows.insert(0, Row("images/s", items / rows[0].ours, items / rows[0].theirs))
        rows.insert(1, Row("images/CPU-s", items / rows[2].ours, items / rows[2].theirs))
    return rows


def paired_ratios(pairs: Sequence[tuple[Sample, Sample]]) -> list[float]:
    """Wall-time ratio ours/theirs of each interleaved pair: their spread shows the machine's noise."""
    return [a.wall_s / b.wall_s for a, b in pairs]
