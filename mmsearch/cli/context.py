"""What every command, a plugin's included, receives as ``ctx.obj``: the global options and a way
to open the Engine they name (``@click.pass_obj`` then ``with obj.open_engine() as engine:``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..engine import Engine


@dataclass(frozen=True)
class CliContext:
    """The ``mmsearch`` group's options, as given (``None`` when left to settings and defaults)."""

    index: str | None = None  # --index / MMSEARCH_INDEX
    db: str | None = None  # --db / MMSEARCH_DB
    embedders: Sequence[str] | None = None  # --embedder / MMSEARCH_EMBEDDERS
    debug: bool = False  # --debug: tracebacks instead of one-line errors

    def open_engine(self, announce: bool = True) -> Engine:
        """The Engine for these options, opened exactly as the built-in commands open it
        (a new index says which embedder it picked on stderr unless ``announce`` is false).
        Must be called while a command runs; use it as a context manager."""
        from .common import open_engine

        return open_engine(click.get_current_context(), announce=announce)

    # Read access by key, for code written when ``ctx.obj`` was a dict.
    def __getitem__(self, key: str) -> Any:
        if key not in {f.name for f in fields(self)}:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default
