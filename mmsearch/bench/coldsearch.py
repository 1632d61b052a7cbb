"""One cold ``mmsearch search "a cat"`` from the shell: the text tower's ONNX export against the
whole torch model, interleaved, and optionally against rclip on the same folder and weights:

    python -m mmsearch.bench coldsearch [--images N] [--runs N] [--out DIR] [--weights FILE]
                                        [--rclip PATH/TO/rclip --rclip-models DIR]

Without ``--weights`` it writes a seeded random-weight ViT-B-32 checkpoint (speed does not depend on
the values). It indexes a few images with the ``clip`` embedder, runs one search that exports the
text tower (a one-off per weights file, reported apart) and records what mmsearch.warm preloads
for this index, compiles mmsearch's bytecode as an installed package has it, then alternates the
order of each pair of runs: ``onnx`` (the default path) and ``torch`` (``MMSEARCH_CLIP_TEXT_RUNTIME=torch``). Printed: the
medians of wall time, CPU time and peak RSS (``os.wait4`` rusage of each whole process) and the
ratios, plus whether both paths ranked the same files with the same scores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .measure import compile_bytecode

QUERY = "a cat"
_MAKE_WEIGHTS = (
    "import sys, torch, open_clip; torch.manual_seed(0); "
    "torch.save(open_clip.create_model('ViT-B-32', pretrained=None).state_dict(), sys.argv[1])"
)
_RCLIP_INDEX = ("import os; from rclip.main import init_rclip; r, m, d = init_rclip(os.getcwd(), 8); "
                "r.close(); m.close(); d.close()")


@dataclass(frozen=True)
class Sample:
    wall_s: float
    cpu_s: float
    peak_mb: float
    stdout: str


def measured(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> Sample:
    """Run ``cmd`` to completion: wall time, CPU time and peak RSS from ``os.wait4``'s rusage."""
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: stderr can never block the child
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=err)
        out = proc.stdout.read()  # type: ignore[union-attr]
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
        if proc.returncode != 0:
            err.seek(0)
            said = err.read().decode(errors="replace").strip()[-500:]
            raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {said}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.decode(errors="replace"))


def write_images(folder: Path, count: int) -> None:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        pixels = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"photo-{i:03d}.jpg", quality=85)


def rclip_datadir(root: Path, models: Path) -> Path:
    """A fresh rclip data folder that sees the model files in ``models`` (rclip reads them there)."""
    root.mkdir(parents=True, exist_ok=True)
    for entry in models.iterdir():
        if not entry.name.startswith("db.sqlite3") and not (root / entry.name).exists():
            (root / entry.name).symlink_to(entry.resolve())
    return root


def median(samples: list[Sample], field: str) -> float:
    return statistics.median(getattr(s, field) for s in samples)


def same_results(a: str, b: str) -> bool:
    left, right = json.loads(a), json.loads(b)
    return [h["path"] for h in left] == [h["path"] for h in right] and all(
        abs(x["score"] - y["score"]) <= 1e-3 for x, y in zip(left, right)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmsearch.bench coldsearch", description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs of each path")
    parser.add_argument("--out", type=Path, help="keep weights, library, index and exports here")
    parser.add_argument("--weights", type=Path, help="a ViT-B-32 checkpoint (default: seeded random weights)")
    parser.add_argument("--rclip", help="also time `rclip QUERY` on the same folder (needs --rclip-models)")
    parser.add_argument("--rclip-models", type=Path, help="folder of rclip's model files for the same weights")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mmsearch-coldsearch-") as tmp:
        out = (args.out or Path(tmp)).resolve()
        out.mkdir(parents=True, exist_ok=True)
        weights = args.weights.resolve() if args.weights else out / "vit-b-32-seed0.pt"
        if not weights.exists():
            subprocess.run([sys.executable, "-c", _MAKE_WEIGHTS, str(weights)], check=True, capture_output=True)
        library, index = out / "library", out / "index"
        if not library.exists():
            write_images(library, args.images)
        env = dict(os.environ, HF_HUB_OFFLINE="1", MMSEARCH_CLIP_WEIGHTS=str(weights),
                   MMSEARCH_CLIP_EXPORT_DIR=str(out / "exports"), MMSEARCH_WARM_DIR=str(out / "warm"))
        env.pop("MMSEARCH_CLIP_TEXT_RUNTIME", None)
        mm = [sys.executable, "-m", "mmsearch", "--index", str(index)]
        if not index.exists():
            measured([*mm, "--embedder", "clip", "index", str(library)], env)
        search = [*mm, "search", "--json", "--min-score", "0", QUERY]
        first = measured(search, env)  # exports the text tower unless this weights file has one
        compile_bytecode()  # as an installed package has it (measure.py)
        exported = any((out / "exports").glob("*.onnx"))
        print(f"{args.images} images indexed; first search (exports the text tower when missing): "
              f"{first.wall_s:.1f} s, {first.peak_mb:.0f} MB; export present: {exported}", flush=True)
        paths: dict[str, tuple[list[str], dict[str, str], Path | None]] = {
            "onnx": (search, env, None),
            # its own preload hints: the ONNX runs' hint would have it open a graph it never uses
            "torch": (search, dict(env, MMSEARCH_CLIP_TEXT_RUNTIME="torch", MMSEARCH_WARM_DIR=str(out / "warm-torch")), None),
        }
        if args.rclip and args.rclip_models:
            data = rclip_datadir(out / "rclip-data", args.rclip_models)
            rc_env = dict(env, RCLIP_DATADIR=str(data))
            python = Path(args.rclip).with_name("python")
            measured([str(python), "-c", _RCLIP_INDEX], rc_env, cwd=library)
            paths["rclip"] = ([args.rclip, QUERY], rc_env, library)
        got: dict[str, list[Sample]] = {name: [] for name in paths}
        names = list(paths)
        for run in range(args.runs):
            order = names if run % 2 == 0 else names[::-1]  # alternate, so load drift hits both alike
            for name in order:
                cmd, run_env, cwd = paths[name]
                got[name].append(measured(cmd, run_env, cwd))
        print(f"{'path':8} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}   (medians of {args.runs} interleaved runs)")
        for name in names:
            print(f"{name:8} {median(got[name], 'wall_s'):8.2f} {median(got[name], 'cpu_s'):8.2f} "
                  f"{median(got[name], 'peak_mb'):8.0f}")
        for base in names[1:]:
            print(f"onnx/{base}: wall {median(got['onnx'], 'wall_s') / median(got[base], 'wall_s'):.2f}x, "
                  f"cpu {median(got['onnx'], 'cpu_s') / median(got[base], 'cpu_s'):.2f}x, "
                  f"peak {median(got['onnx'], 'peak_mb') / median(got[base], 'peak_mb'):.2f}x")
        print(f"same ranking and scores (±0.001) on both mmsearch paths: "
              f"{same_results(got['onnx'][0].stdout, got['torch'][0].stdout)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
