"""A progress bar for a vector-cache rebuild, which a search or an index run may start deep inside
``Engine.open`` (a missing or stale cache is rebuilt from SQL: seconds per million vectors)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..vectors.progress import rebuild_reporter

if TYPE_CHECKING:
    from rich.console import Console

#: Smaller rebuilds finish before a bar could be read.
MIN_VECTORS = 100_000


@contextmanager
def _bar(console: Console | None, space_id: int, total: int) -> Iterator[Callable[[int], None]]:
    if total < MIN_VECTORS:
        yield lambda _done: None
        return
    # rich is imported here, not by every command: 40 ms of each cold search went to it.
    from rich.console import Console
    from rich.errors import LiveError
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = console or Console(stderr=True)
    if not console.is_terminal:
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
    """Show rebuilds as a bar on stderr for the rest of this command, when stderr is a terminal
    (``console``'s, if given; otherwise decided when a rebuild large enough for a bar starts)."""
    if console is None or console.is_terminal:
        rebuild_reporter.set(lambda space_id, total: _bar(console, space_id, total))
