"""``mmsearch eval``: ranking quality, false alarms and false abstentions on a labelled set."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import echo_json, open_engine

if TYPE_CHECKING:
    from ..eval.report import EvalReport


def register(cli: click.Group) -> None:
    cli.add_command(eval_)


@click.command("eval")
@click.argument("labelled_set", type=click.Path(dir_okay=False))
@click.option("--library", type=click.Path(file_okay=False, exists=True),
              help="The folder the relevant paths are relative to; it is indexed (brought up to date) first.")
@click.option("-k", "--depth", "k", default=100, show_default=True, type=click.IntRange(10),
              help="How deep each uncut ranking goes (R@10 and nDCG@10 need 10).")
@click.option("--min-score", type=click.FloatRange(0, 1), default=None,
              help="The cut to report false alarms and abstentions at (default: setting search.min_score).")
@click.option("--time-slack", default=1.0, show_default=True, type=click.FloatRange(0),
              help="Seconds a hit's time may fall outside a labelled [t0, t1] and still count.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON, with every query's outcome.")
@click.option("--save", type=click.Path(dir_okay=False, writable=True), help="Also write the JSON report to this file.")
@click.pass_context
def eval_(ctx: click.Context, labelled_set: str, library: str | None, k: int, min_score: float | None, time_slack: float,
          as_json: bool, save: str | None) -> None:
    """Measure search quality on LABELLED_SET, a JSONL file with one query per line:

    \b
      {"query": "a cat on a sofa", "relevant": ["photos/cat.png"]}
      {"query": "the weather tomorrow", "relevant": [{"path": "talk.mp3", "t": [12, 15.5]}]}
      {"query": "a submarine", "kind": "absent"}

    Relevant paths are relative to the library folder. Queries with no right answer ("kind":
    "absent", "gibberish", ...) measure false alarms. Reports R@1/5/10, MRR, nDCG@10, false alarms
    and false abstentions at the cut, per modality, and the cut that would suit this set best.
    """
    from ..eval.labels import load

    from rich.console import Console

    labelled = load(labelled_set)  # a bad file fails before any model loads
    if save:
        _check_writable(Path(save))  # before minutes of searching, not after
    console = Console(stderr=True)
    with open_engine(ctx) as engine:
        if library is not None:
            summary = engine.index([library])
            if not as_json:
                console.print(f"Library {library}: {summary.added} added, {summary.updated} updated, {summary.unchanged} unchanged, "
                              f"{summary.failed} failed", highlight=False)
        if console.is_terminal and not as_json:
            from rich.progress import Progress

            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("searching", total=len(labelled.queries))
                report = engine.evaluate(labelled, min_score=min_score, k=k, library=library, time_slack=time_slack,
                                         progress=lambda done, total: bar.update(task, completed=done))
        else:
            report = engine.evaluate(labelled, min_score=min_score, k=k, library=library, time_slack=time_slack)
    failed_save = None
    if save:
        try:
            Path(save).write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as exc:  # the report is still printed below: the work is not lost
            failed_save = exc
    _print(report, as_json)
    if failed_save is not None:
        raise click.ClickException(f"could not write the report to {save}: {failed_save.strerror or failed_save}; "
                                   "it was printed above")


def _check_writable(path: Path) -> None:
    """Create the report's folder and make sure the file can be written, or say why not."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(f"cannot create the folder of {path}: {exc.strerror or exc}", param_hint="--save") from exc
    if path.is_dir() or not os.access(path if path.exists() else path.parent, os.W_OK):
        raise click.BadParameter(f"cannot write {path}: {'a folder' if path.is_dir() else 'permission denied'}", param_hint="--save")


def _print(report: EvalReport, as_json: bool) -> None:
    from ..eval.report import render

    from rich.console import Console

    if as_json:
        echo_json(report.to_dict())
        return
    out = Console()
    if not out.is_terminal:  # piped into a file (e.g. RESULTS.md): do not squeeze the table to 80 columns
        out = Console(width=160)
    for part in render(report):
        out.print(part)
