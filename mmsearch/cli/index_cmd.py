"""``mmsearch index`` and ``mmsearch remove``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..paths import printable
from ..types import FileReport, IndexSummary
from .common import echo_json, open_engine, require_index

if TYPE_CHECKING:
    from rich.console import Console


def register(cli: click.Group) -> None:
    cli.add_command(index)
    cli.add_command(remove)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--retry-failed", is_flag=True, help="Try again the files that failed before, even if unchanged.")
@click.option("--reextract", is_flag=True,
              help="Read and embed every file again, changed or not: after changing OCR, text chunk size or the audio model.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default=None,
              help="Where extraction and embedding run: this process (default) or a Ray cluster.")
@click.option("--ray-address", default=None, metavar="ADDR",
              help="Ray cluster to use with --executor ray (default: setting ray.address, else a new local cluster).")
@click.pass_context
def index(ctx: click.Context, paths: tuple[str, ...], as_json: bool, retry_failed: bool, reextract: bool, executor: str | None,
          ray_address: str | None) -> None:
    """Index (or bring up to date) the media under PATHS.

    New and changed files are indexed, moved files keep their vectors, deleted files are removed.
    A file that cannot be read is recorded with its reason and the run goes on.
    """
    from rich.console import Console  # on use: the CLI's other commands start without rich

    console = Console(stderr=True)
    if ray_address and executor is None:
        executor = "ray"
    options = {"retry_failed": retry_failed, "reextract": reextract, "executor": executor, "ray_address": ray_address}
    from ..arguments import refuse_empty  # on use: it loads the query parser

    refuse_empty(paths, "mmsearch index")  # before opening, which would create an index for nothing
    with open_engine(ctx) as engine:
        if console.is_terminal and not as_json:
            summary = _with_progress(console, engine, paths, options)
        else:
            summary = engine.index(paths, **options)
    if as_json:
        echo_json(summary.to_dict())
    else:
        click.echo(summary_line(summary))
        for line in failure_lines(summary.failures):
            click.echo(line)


SHOWN_PER_KIND = 3  # files of one extension no plugin reads, listed before the rest are counted


def failure_lines(failures: tuple[FileReport, ...]) -> list[str]:
    """One line per failed or deliberately skipped file (a link out of the library, too big); files
    no plugin reads are listed a few per extension, then counted: a photo library's thousands of
    sidecar files must not bury its real failures."""
    from ..indexing.run import UNSUPPORTED

    lines: list[str] = []
    unread: dict[str, int] = {}
    for failure in failures:
        reason = failure.error or ""
        if reason.startswith(UNSUPPORTED):
            unread[reason] = unread.get(reason, 0) + 1
            if unread[reason] > SHOWN_PER_KIND:
                continue
        lines.append(f"  {failure.action}: {printable(failure.path)}: {printable(reason)}")
    for reason, count in unread.items():
        if count > SHOWN_PER_KIND:
            lines.append(f"  skipped: {count - SHOWN_PER_KIND} more: {printable(reason)}")
    return lines


def _with_progress(console: Console, engine, paths, options: dict) -> IndexSummary:  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("[bold]indexing"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
               TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[current]}", style="dim"))
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("index", total=None, current="scanning…")

        def advance(report: FileReport, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, current=printable(report.path)[-50:])

        return engine.index(paths, progress=advance, **options)


def summary_line(s: IndexSummary) -> str:
    files = s.added + s.updated + s.unchanged + s.renamed + s.failed
    # Model loading is reported apart: it is a start-up cost, not indexing speed.
    took = f"{s.seconds:.1f} s" + (f" ({s.load_seconds:.1f} s loading models)" if s.load_seconds >= 0.05 else "")
    still = (f"; {s.still_failing} of the unchanged failed before and were not tried again "
             "(--retry-failed tries them, mmsearch status lists them)") if s.still_failing else ""
    return (
        f"Indexed {files} files in {took}: {s.added} added, {s.updated} updated, {s.unchanged} unchanged, "
        f"{s.renamed} renamed, {s.removed} removed, {s.failed} failed, {s.skipped} skipped ({s.segments} new segments){still}"
    )


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.pass_context
def remove(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Forget the media at or below PATHS (the files on disk are not touched)."""
    from ..arguments import refuse_empty  # on use: it loads the query parser

    refuse_empty(paths, "mmsearch remove")  # '' is the working directory: everything under it would go
    require_index(ctx)  # opening would create an empty index just to remove nothing from it
    with open_engine(ctx) as engine:
        count = engine.remove(paths)
    if count == 0:
        click.echo(f"Removed nothing: the index holds no file at or below {', '.join(map(printable, paths))} "
                   "(mmsearch status lists its libraries).")
        return
    click.echo(f"Removed {count} files from the index.")
