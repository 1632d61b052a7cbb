"""What every command shares: one-line errors, opening the engine from the global options."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from ..errors import MMSearchError

if TYPE_CHECKING:
    from ..engine import Engine


class Group(click.Group):
    """Turns MMSearchError into one line on stderr and exit code 1 (a traceback only with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MMSearchError as exc:
            if (ctx.obj or {}).get("debug"):
                raise
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted; everything written before this point is kept.", err=True)
            ctx.exit(130)


def open_engine(ctx: click.Context, announce: bool = True) -> Engine:
    from ..engine import Engine  # imported on use: `mmsearch --help` need not load FAISS

    obj = ctx.find_root().obj
    engine = Engine.open(obj["index"], db=obj["db"], embedders=obj["embedders"])
    if announce and engine.space_note:
        click.echo(engine.space_note, err=True)
    return engine


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def human_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
