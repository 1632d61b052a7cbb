"""``mmsearch db upgrade``: bring an index written by an older mmsearch to the current schema."""

from __future__ import annotations

from pathlib import Path

import click

from ..settings import Settings


def register(cli: click.Group) -> None:
    cli.add_command(db)


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Apply pending schema migrations to the index database (back it up first)."""
    from ..engine import default_index_dir  # imported on use, as the engine loads FAISS
    from ..store import db as store_db

    obj = ctx.find_root().obj
    index_dir = Path(obj["index"] or Settings().get("index") or default_index_dir()).expanduser().resolve()
    url = obj["db"] or Settings.load(index_dir if index_dir.exists() else None).get("db") or store_db.default_url(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    engine = store_db.create_db_engine(url)
    try:
        before, after = store_db.upgrade(engine)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"Already at schema {after}; nothing to do.")
    else:
        click.echo(f"Upgraded the index database from schema {before or 'empty'} to {after}.")
