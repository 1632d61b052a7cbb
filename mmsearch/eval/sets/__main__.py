"""``python -m mmsearch.eval.sets NAME [NAME...] --out DIR``: write labelled sets (see __init__)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from . import BUILDERS


@click.command()
@click.argument("names", nargs=-1, required=True, type=click.Choice([*BUILDERS, "all"]))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write into; with several sets, each goes to OUT/NAME.")
def main(names: tuple[str, ...], out: Path) -> None:
    """Build labelled sets for `mmsearch eval` from installed packages. Measuring only: never fit on them."""
    chosen = list(BUILDERS) if "all" in names else list(dict.fromkeys(names))
    for name in chosen:
        build, missing = BUILDERS[name]
        reason = missing()
        if reason:
            click.echo(f"Error: cannot build {name}: {reason}", err=True)
            sys.exit(1)
        target = out / name if len(chosen) > 1 else out
        target.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        build(target)
        lines = (target / "labels.jsonl").read_text(encoding="utf-8").count("\n")
        click.echo(f"{name}: {target / 'library'} and {target / 'labels.jsonl'} ({lines} queries) in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
