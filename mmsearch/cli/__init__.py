"""The ``mmsearch`` command line: one module per command group, plugins may add their own."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..errors import MMSearchError
from . import calibrate_cmd, db_cmd, demo_cmd, eval_cmd, index_cmd, info_cmd, search_cmd
from .common import Group


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index", "index_dir", envvar="MMSEARCH_INDEX", type=click.Path(file_okay=False),
              help="Index directory [env MMSEARCH_INDEX; default: the user data directory].")
@click.option("--db", envvar="MMSEARCH_DB", help="SQLAlchemy database URL [env MMSEARCH_DB; default: SQLite in the index].")
@click.option("--embedder", "embedders", envvar="MMSEARCH_EMBEDDERS", multiple=True,
              help="Embedder for a new index (repeatable) [env MMSEARCH_EMBEDDERS]; see `mmsearch models`.")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="mmsearch")
@click.pass_context
def cli(ctx: click.Context, index_dir: str | None, db: str | None, embedders: tuple[str, ...], debug: bool) -> None:
    """Search your own photos, documents, recordings and videos in plain words or by example."""
    split = [e.strip() for value in embedders for e in value.split(",") if e.strip()]
    ctx.obj = {"index": index_dir, "db": db, "embedders": split or None, "debug": debug}


for module in (index_cmd, search_cmd, info_cmd, db_cmd, demo_cmd, eval_cmd, calibrate_cmd):
    module.register(cli)


def _add_plugin_commands() -> None:
    from ..plugins import make_plugin_manager

    try:
        make_plugin_manager().hook.register_commands(cli=cli)
    except MMSearchError as exc:  # a broken plugin must not take the whole CLI down
        click.echo(f"Warning: {exc}", err=True)


def main(argv: list[str] | None = None) -> Any:
    _add_plugin_commands()
    return cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="mmsearch")
