"""``mmsearch demo``: build a small library of real media, index it, and run a few searches."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import platformdirs

from .. import demo as demo_library
from .common import open_engine
from .index_cmd import summary_line
from .search_cmd import format_hit, shown


def register(cli: click.Group) -> None:
    cli.add_command(demo)


@click.command()
@click.option("--folder", type=click.Path(file_okay=False), help="Where to write the demo library [default: user data dir].")
@click.option("-k", "--limit", "k", default=3, show_default=True, type=click.IntRange(1), help="Results per query.")
@click.pass_context
def demo(ctx: click.Context, folder: str | None, k: int) -> None:
    """Index a demo library (photos, clip-art, documents) and show what searching it returns."""
    root = ctx.find_root().obj
    target = Path(folder) if folder else Path(platformdirs.user_data_dir("mmsearch")) / "demo-library"
    index = root["index"] or str(target.parent / "demo-index")  # its own index unless --index says otherwise
    library = demo_library.build(target)
    click.echo(f"Demo library: {library}")
    with open_engine(ctx, index=index) as engine:
        click.echo(summary_line(engine.index([library])))
        # The demo keeps its own index, so the user's default index holds only their files: each
        # search is printed as the exact command that repeats it, --index included.
        db = f" --db {shlex.quote(root['db'])}" if root["db"] else ""
        again = f"mmsearch --index {shlex.quote(str(engine.index_dir))}{db} search"
        for query in demo_library.QUERIES:
            click.echo(f"\n{again} {shlex.quote(query)}")
            for rank, hit in enumerate(engine.search(query, k=k), start=1):
                click.echo(format_hit(rank, shown(hit)))
        click.echo(f"\nSearch the demo library yourself with: {again} 'your words'")
