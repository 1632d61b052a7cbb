"""Who shows a vector-cache rebuild's progress. Kept apart from ``cache`` so the CLI can install a
reporter at start-up without importing NumPy or FAISS."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from contextvars import ContextVar

#: Called with the space id and its vector count, a reporter gives a context manager yielding the
#: callback for the running count. A rebuild happens deep inside an open or a search, so the CLI
#: installs one here (a progress bar on a terminal) rather than threading a callback through every
#: caller.
RebuildReporter = Callable[[int, int], AbstractContextManager[Callable[[int], None]]]
rebuild_reporter: ContextVar[RebuildReporter | None] = ContextVar("rebuild_reporter", default=None)
