"""Whole-process measurements for side-by-side benchmarks: wall time, CPU time and peak memory of
a command and everything it starts, and the medians and ratios a comparison prints."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
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


# Runs the command and reports its rusage. Why a launcher: a child starts with its parent's
# resident pages in its peak RSS (fork copies the page counts; exec folds the old ones into
# ru_maxrss), so a large measuring process (a test session with torch loaded) would inflate every
# figure. This small interpreter (no site, a few MB) is the parent instead.
_LAUNCHER = """
import json, os, subprocess, sys, time
cmd, cwd, log, out, cores = json.loads(sys.argv[1])
pin = (lambda: os.sched_setaffinity(0, cores)) if cores else None
with open(log, "wb") as sink:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT, preexec_fn=pin)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
with open(out, "w") as fh:
    json.dump([os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss], fh)
"""


def run_measured(cmd: Sequence[str], *, cwd: Path, env: dict[str, str], log: Path, cores: set[int] | None = None) -> Sample:
    """Run ``cmd`` to completion; its output goes to ``log``. ``cores`` pins it (and so its thread
    pools, which size themselves from the affinity) to those CPUs.

    ``os.wait4`` reports the child's rusage with its own waited-for children folded in, so a tool
    that forks workers is charged for them; ``ru_maxrss`` is then the largest of them (KiB on Linux).
    """
    result = log.with_suffix(".rusage.json")
    spec = json.dumps([list(cmd), str(cwd), str(log), str(result), sorted(cores) if cores else None])
    subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, spec], env=env, check=True)
    code, wall, cpu, maxrss = json.loads(result.read_text())
    if code != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise CommandFailed(f"{' '.join(cmd)} exited {code} (log {log}): {' | '.join(tail)}")
    return Sample(wall, cpu, maxrss / 1024)


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


def compile_bytecode() -> list[Path]:
    """Write the bytecode of mmsearch and its built-in plugins, as ``pip install`` does for an
    installed package. Run from a checkout with ``PYTHONDONTWRITEBYTECODE=1`` (as on these build
    machines), every start would otherwise compile each module from source: ~0.1 s of a cold
    search that a pip-installed peer never pays. Returns the folders compiled."""
    import compileall

    import mmsearch

    package = Path(mmsearch.__file__).resolve().parent
    folders = [package] + [p for p in [package.parent / "plugins"] if p.is_dir()]
    for folder in folders:
        compileall.compile_dir(folder, quiet=1)
    return folders
