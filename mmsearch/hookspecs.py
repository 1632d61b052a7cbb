"""Every hook a plugin may implement. Bodies are docstrings only; pluggy reads the signatures.

A hook implementation may accept any subset of a spec's arguments, by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pluggy

if TYPE_CHECKING:
    from .embedder import Embedder
    from .search.fusion import Fuser
    from .modality import Modality
    from .settings import Settings
    from .transcriber import Transcriber

hookspec = pluggy.HookspecMarker("mmsearch")


@hookspec
def register_transcribers(register: Callable[[Transcriber], None], settings: Settings) -> None:
    """Register :class:`~mmsearch.transcriber.Transcriber` instances (speech to timed text) by
    calling ``register(transcriber)``. Runs before ``register_modalities``, which receives them."""


@hookspec
def register_modalities(
    register: Callable[[Modality], None], settings: Settings, transcribers: Mapping[str, Transcriber]
) -> None:
    """Register :class:`~mmsearch.Modality` instances by calling ``register(modality)``.

    When two modalities accept a file, the one registered first wins; built-ins register last.
    ``transcribers`` holds the registered transcribers by name (empty when none is installed):
    a modality that needs speech as text takes one from there instead of importing a plugin.
    """


@hookspec
def register_embedders(register: Callable[[Embedder], None], settings: Settings) -> None:
    """Register :class:`~mmsearch.Embedder` instances by calling ``register(embedder)``.

    Construction must be cheap: load weights in ``Embedder.load``, which runs on first use.
    """


@hookspec
def register_fusers(register: Callable[[Fuser], None]) -> None:
    """Register :class:`~mmsearch.Fuser` instances that combine leg scores into one ranking."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``mmsearch`` command line."""


@hookspec(firstresult=True)
def ignore_path(path: Path, settings: Settings) -> bool | None:
    """Return ``True`` to skip ``path`` while walking a library, ``False`` to keep it,
    ``None`` to leave the decision to other plugins. The first non-``None`` answer wins."""
