"""Every hook a plugin may implement. Bodies are docstrings only; pluggy reads the signatures.

A hook implementation may accept any subset of a spec's arguments, by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pluggy

if TYPE_CHECKING:
    from .embedder import Embedder
    from .search.fusion import Fuser
    from .modality import Modality
    from .engine import Engine
    from .settings import Settings, SettingsSection
    from .transcriber import Transcriber
    from .types import IndexSummary, Segment, Source

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
    """Register :class:`~mmsearch.Fuser` instances that combine leg scores into one ranking.

    A fuser must set the class attribute ``name`` (what ``search(fuser=...)`` selects; refused
    without one) and may set ``calibrated = True`` when its scores are calibrated, so the
    "no good match" cut applies to them."""


@hookspec
def register_settings(register: Callable[[SettingsSection], None]) -> None:
    """Declare the plugin's typed settings: ``register(SettingsSection("bow", {"dim": Setting(int, 64)}))``.

    Runs first, before any other ``register_*`` hook: an unknown key in a declared table
    (``[bow] dimm``) or a value of the wrong type stops the index from opening, listing the keys
    the table takes. Read values with ``settings.typed("bow.dim", setting)``."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``mmsearch`` command line.

    A command receives the global options as ``ctx.obj``, a frozen
    :class:`~mmsearch.cli.context.CliContext` (``index``, ``db``, ``embedders``, ``debug``) whose
    ``open_engine()`` opens the Engine exactly as the built-in commands do::

        @cli.command()
        @click.pass_obj
        def stats(obj: CliContext) -> None:
            with obj.open_engine() as engine:
                click.echo(engine.status().segments)
    """


@hookspec
def index_finished(summary: IndexSummary, engine: Engine) -> None:
    """Called after every ``index`` run (CLI or ``Engine.index``) that completed, with what it did
    (``summary.added``, ``updated``, ``removed``, ``failed``, ...) and the open Engine, e.g. to
    export a report or warm a cache. An exception here disables the plugin with a warning; the
    run's result stands."""


@hookspec(firstresult=True)
def ignore_path(path: Path, settings: Settings) -> bool | None:
    """Return ``True`` to skip ``path`` while walking a library, ``False`` to keep it,
    ``None`` to leave the decision to other plugins. The first non-``None`` answer wins."""


@hookspec
def extra_segments(source: Source, modality: str, segment: Segment, settings: Settings) -> Iterable[Segment] | None:
    """Contribute segments derived from ``segment``, which the modality named ``modality`` yielded
    for ``source``; they join the same media, after it. Return ``None`` (or nothing) to add none.

    This is how one plugin adds to another's media without importing it: the OCR plugin reads the
    text in an ``image`` segment (a photo, a scanned PDF page) and returns ``text`` segments with
    the same page and the region they cover (``Locator.box``). ``segment.payload`` is the decoded
    payload as the modality yielded it (an image may be downscaled for embedding; ``source.path``
    is the file, to decode again at full resolution). Called once per segment in the extracting
    thread, so implementations must be thread-safe; keep it cheap when there is nothing to add.
    Segments returned may be of any kind an embedder takes. An exception fails the file alone.
    """
