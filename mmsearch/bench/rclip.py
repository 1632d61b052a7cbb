"""mmsearch against rclip, side by side, whole processes from the shell:

    python -m mmsearch.bench rclip --rclip PATH/TO/rclip [--runs N] [--out DIR] [--threads N]

Two folders (48 camera JPEGs of 12 MP, 300 clip-art PNGs from Debian's openclipart-png) are
indexed by each tool into a fresh index per run, then one cold search (``mmsearch search "a cat"``
against ``rclip "a cat"``) runs on the photo index each just built. Before the first run an untimed
warm-up indexes two photos and searches once, so that what mmsearch makes once per weights on a
machine (the towers' ONNX exports, the search's query bank) is in place, as rclip's ONNX files are. The two tools alternate within
each run (mmsearch first in even runs, rclip first in odd ones), so drift in the machine's load
hits both alike and the ratios stay fair on a shared machine even when absolute times do not.

Per process: wall time, CPU time (user + system) and peak RSS, children included (``os.wait4``).
Printed: the median of each metric per tool and mmsearch/rclip; for indexing also images/s.

rclip's indexing is its own ``init_rclip`` (what ``rclip QUERY`` runs before it searches), called
through the Python next to the given executable; without one, ``rclip -f QUERY`` is timed, search
included. rclip's model files come from ``--rclip-models`` (default: its own data folder); each
fresh rclip data folder links to them. Both tools must run the same weights for the comparison to
mean anything: give mmsearch the same checkpoint with ``--weights FILE``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from .libraries import copy_clipart, make_photos, ready
from ..settings import env_name
from .measure import CommandFailed, Row, Sample, compile_bytecode, paired_ratios, run_measured, summarise

QUERY = "a cat"
_RCLIP_INDEX = ("import os; from rclip.main import init_rclip; r, m, d = init_rclip(os.getcwd(), {batch}); "
                "r.close(); m.close(); d.close()")


def _rclip_home() -> Path:
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "rclip"


def _rclip_datadir(root: Path, models: Path) -> Path:
    """A fresh rclip data folder (no database) that sees the model files in ``models``."""
    root.mkdir(parents=True)
    for entry in models.iterdir():
        if not entry.name.startswith("db.sqlite3"):
            (root / entry.name).symlink_to(entry.resolve())
    return root


class Bench:
    def __init__(self, args: argparse.Namespace, out: Path) -> None:
        self.args, self.out = args, out
        threads = args.threads or len(os.sched_getaffinity(0))
        self.cores = set(sorted(os.sched_getaffinity(0))[:threads])
        self.env = dict(os.environ, HF_HUB_OFFLINE="1", MMSEARCH_CLIP_THREADS=str(threads))
        if args.weights:
            self.env["MMSEARCH_CLIP_WEIGHTS"] = str(Path(args.weights).resolve())
        for key, value in args.set:
            self.env[env_name(key)] = value
        self.mmsearch = [sys.executable, "-m", "mmsearch"]
        python = Path(args.rclip).with_name("python")
        self.rclip_index = ([str(python), "-c", _RCLIP_INDEX.format(batch=args.rclip_batch)] if python.exists()
                            else [args.rclip, "-f", QUERY])

    def run(self, tag: str, cmd: list[str], cwd: Path, env: dict[str, str]) -> Sample:
        return run_measured(cmd, cwd=cwd, env=env, log=self.out / "logs" / f"{tag}.log", cores=self.cores)

    def mm_index(self, run: int, name: str, folder: Path) -> tuple[Callable[[], Sample], Path]:
        index = self.out / f"run{run}" / f"mmsearch-{name}"
        cmd = [*self.mmsearch, "--index", str(index), "--embedder", self.args.embedder, "index", str(folder)]
        return (lambda: self.run(f"run{run}-mmsearch-index-{name}", cmd, folder, self.env)), index

    def rc_index(self, run: int, name: str, folder: Path) -> tuple[Callable[[], Sample], Path]:
        data = self.out / f"run{run}" / f"rclip-{name}"
        env = dict(self.env, RCLIP_DATADIR=str(data))

        def go() -> Sample:
            _rclip_datadir(data, self.args.rclip_models)
            return self.run(f"run{run}-rclip-index-{name}", self.rclip_index, folder, env)

        return go, data

    def warm_up(self, photos: Path) -> None:
        """What mmsearch makes once per weights on a machine, as rclip's ONNX files come made: the
        towers' ONNX exports (the first run that meets none writes them) and the search's query
        bank. One untimed index of two photos and one search, in a throwaway index. And the
        bytecode an installed package has (measure.compile_bytecode)."""
        compile_bytecode()
        folder = self.out / "warm-up" / "photos"
        shutil.rmtree(folder.parent, ignore_errors=True)
        folder.mkdir(parents=True)
        for photo in sorted(photos.glob("*.jpg"))[:2]:
            shutil.copy2(photo, folder / photo.name)
        index = str(folder.parent / "index")
        self.run("warm-up-index", [*self.mmsearch, "--index", index, "--embedder", self.args.embedder, "index", str(folder)],
                 folder, self.env)
        self.run("warm-up-search", [*self.mmsearch, "--index", index, "search", QUERY], folder, self.env)

    def one_run(self, run: int, folders: dict[str, Path]) -> dict[str, tuple[Sample, Sample]]:
        mm_first = run % 2 == 0
        got: dict[str, tuple[Sample, Sample]] = {}
        for name, folder in folders.items():
            (mm, _), (rc, _) = self.mm_index(run, name, folder), self.rc_index(run, name, folder)
            got[f"index {name}"] = _pair(mm, rc, mm_first)
        photos = folders["photos"]
        mm_index = self.out / f"run{run}" / "mmsearch-photos"
        rc_env = dict(self.env, RCLIP_DATADIR=str(self.out / f"run{run}" / "rclip-photos"))
        mm_search = [*self.mmsearch, "--index", str(mm_index), "search", QUERY]
        got["search"] = _pair(lambda: self.run(f"run{run}-mmsearch-search", mm_search, photos, self.env),
                              lambda: self.run(f"run{run}-rclip-search", [self.args.rclip, QUERY], photos, rc_env),
                              mm_first)
        return got


def _pair(mm: Callable[[], Sample], rc: Callable[[], Sample], mm_first: bool) -> tuple[Sample, Sample]:
    if mm_first:
        a = mm()
        return a, rc()
    b = rc()
    return mm(), b


def folders(out: Path, photos: int, clipart: int) -> dict[str, Path]:
    made = {"photos": out / "library" / "photos", "clipart": out / "library" / "clipart"}
    if not ready(made["photos"], "*.jpg", photos):
        print(f"writing {photos} JPEGs of 12 MP to {made['photos']} …", flush=True)
        make_photos(made["photos"], photos)
    if not ready(made["clipart"], "*.png", clipart):
        copy_clipart(made["clipart"], clipart)
    return made


def report(results: list[dict[str, tuple[Sample, Sample]]], counts: dict[str, int]) -> list[str]:
    lines = [f"{'stage':16} {'metric':13} {'mmsearch':>9} {'rclip':>9} {'mm/rclip':>9}"]
    for stage in results[0]:
        pairs = [r[stage] for r in results]
        rows: list[Row] = summarise(pairs, counts.get(stage.removeprefix("index ")) if stage.startswith("index") else None)
        for row in rows:
            lines.append(f"{stage:16} {row.metric:13} {row.ours:9.2f} {row.theirs:9.2f} {row.ratio:9.2f}")
        spread = paired_ratios(pairs)
        lines.append(f"{stage:16} {'wall ratio per pair':30} {' '.join(f'{x:.2f}' for x in spread)}")
    return lines


def _setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmsearch.bench rclip", description=__doc__.splitlines()[0])
    parser.add_argument("--rclip", help="the rclip executable to compare with")
    parser.add_argument("--rclip-models", type=Path, default=_rclip_home(), help="folder holding rclip's model files")
    parser.add_argument("--weights", help="CLIP checkpoint for mmsearch (clip.weights); rclip must run the same weights")
    parser.add_argument("--embedder", default="clip")
    parser.add_argument("--runs", type=int, default=3, help="interleaved pairs per stage")
    parser.add_argument("--out", type=Path, help="keep libraries, indexes, logs and results.json here")
    parser.add_argument("--threads", type=int, default=0, help="cores for each tool (default: all this process may use)")
    parser.add_argument("--photos", type=int, default=48)
    parser.add_argument("--clipart", type=int, default=300)
    parser.add_argument("--set", type=_setting, action="append", default=[], metavar="KEY=VALUE",
                        help="an mmsearch setting for its runs, e.g. ocr=never (rclip reads no text in pictures)")
    parser.add_argument("--rclip-batch", type=int, default=8, help="rclip's --indexing-batch-size (its default: 8)")
    args = parser.parse_args(argv)
    if not args.rclip:
        print("This benchmark compares against rclip: pass its executable with --rclip PATH (e.g. from "
              "`pip install rclip` in its own virtualenv) and the same CLIP weights to both (--weights, "
              "--rclip-models). Nothing was run.")
        return 0
    with tempfile.TemporaryDirectory(prefix="mmsearch-rclip-") as tmp:
        out = (args.out or Path(tmp)).resolve()
        (out / "logs").mkdir(parents=True, exist_ok=True)
        libs = folders(out, args.photos, args.clipart)
        for stale in out.glob("run*"):  # an earlier invocation's indexes: every run starts fresh
            shutil.rmtree(stale)
        bench = Bench(args, out)
        print(f"mmsearch: {' '.join(bench.mmsearch)} ({Path(__file__).parents[1]}); rclip indexing: {' '.join(bench.rclip_index)}; "
              f"cores {sorted(bench.cores)}; settings {dict(args.set) or 'default'}; {args.runs} interleaved runs", flush=True)
        bench.warm_up(libs["photos"])
        results = []
        for run in range(args.runs):
            try:
                results.append(bench.one_run(run, libs))
            except CommandFailed as exc:
                print(f"Error: {exc}", file=sys.stderr)
                return 1
            print(f"run {run + 1}/{args.runs} done", flush=True)
        lines = report(results, {"photos": args.photos, "clipart": args.clipart})
        print("\n".join(lines))
        if args.out:
            dump = [{stage: [asdict(s) for s in pair] for stage, pair in r.items()} for r in results]
            (out / "results.json").write_text(json.dumps({"runs": dump, "report": lines}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
