"""``mmsearch db upgrade`` and ``db compact``: schema migrations and file maintenance."""

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
    from ..store import db as store_db

    index_dir, url = _where(ctx)
    path = store_db.sqlite_file(url)
    if path is not None and not path.exists():  # upgrading nothing would create an empty index
        raise click.ClickException(f"no index database at {path}; nothing to upgrade (a new index is made by "
                                   "`mmsearch index PATH`)")
    engine = store_db.create_db_engine(url, index_dir=index_dir)
    try:
        before, after = store_db.upgrade(engine)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"Already at schema {after}; nothing to do.")
    else:
        click.echo(f"Upgraded the index database from schema {before or 'empty'} to {after}.")


@db.command()
@click.pass_context
def compact(ctx: click.Context) -> None:
    """Rewrite a SQLite index file in the current page layout, dropping free pages (VACUUM).

    An index made with SQLite's 4 KiB pages shrinks to about half (each vector row had a page of
    its own). Needs free disk about the size of index.db while it runs; waits for a running indexer.
    """
    from ..store import db as store_db

    index_dir, url = _where(ctx)
    path = store_db.sqlite_file(url)
    if path is not None and not path.exists():
        raise click.ClickException(f"no index database at {path}; nothing to compact")
    engine = store_db.create_db_engine(url, index_dir=index_dir)
    try:
        size0, page0, size1, page1 = store_db.compact(engine, index_dir)
    finally:
        engine.dispose()
    click.echo(f"Compacted {path}: {size0 / 2**20:.1f} MiB -> {size1 / 2**20:.1f} MiB "
               f"(page size {page0} -> {page1} bytes).")


def _where(ctx: click.Context) -> tuple[Path, str]:
    from ..engine import default_index_dir  # imported on use, as the engine loads FAISS
    from ..store import db as store_db

    obj = ctx.find_root().obj
    index_dir = Path(obj["index"] or Settings().get("index") or default_index_dir()).expanduser().resolve()
    url = obj["db"] or Settings.load(index_dir if index_dir.exists() else None).get("db") or store_db.default_url(index_dir)
    return index_dir, url
