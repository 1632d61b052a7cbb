"""A progress bar for a vector-cache rebuild, which a search or an index run may start deep inside
``Engine.open`` (a missing or stale cache is rebuilt from SQL: seconds per million vectors)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.errors import LiveError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..vectors.progress import rebuild_reporter

#: Smaller rebuilds finish before a bar could be read.
MIN_VECTORS = 100_000


@contextmanager
def _bar(console: Console, space_id: int, total: int) -> Iterator[Callable[[int], None]]:
    if total < MIN_VECTORS:
        yield lambda _done: None
        return
    columns = (TextColumn("[bold]rebuilding the vector cache from the database"), BarColumn(), MofNCompleteColumn(),
               TextColumn("vectors"), TimeElapsedColumn())
    progress = Progress(*columns, console=console, transient=True)
    try:
        progress.start()
    except LiveError:  # another bar (index's own) is on screen: stay quiet rather than fight it
        yield lambda _done: None
        return
    try:
        task = progress.add_task(f"space {space_id}", total=total)
        yield lambda done: progress.update(task, completed=done)
    finally:
        progress.stop()


def install(console: Console | None = None) -> None:
    """Show rebuilds as a bar on stderr for the rest of this command, when stderr is a terminal."""
    console = console or Console(stderr=True)
    if console.is_terminal:
        rebuild_reporter.set(lambda space_id, total: _bar(console, space_id, total))
