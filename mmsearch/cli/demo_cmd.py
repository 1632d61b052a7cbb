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
    """Index a demo library (photos, clip-art, documents) and show what searching it returns,
    weak matches below the no-match cut included."""
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
        from ..search.searcher import DEFAULT_MIN_SCORE  # on use: the CLI starts without SQLAlchemy

        cut = engine.settings.get_score("search.min_score", DEFAULT_MIN_SCORE)
        for query in demo_library.QUERIES:
            # Every query, with its weak matches too: what a search shows and what the cut hides.
            click.echo(f"\n{again} {shlex.quote(query)}")
            hits = engine.search(query, k=k, min_score=0.0)
            for rank, hit in enumerate(hits, start=1):
                below = f"   (below the {cut:g} cut: not shown by search)" if hit.score < cut else ""
                click.echo(format_hit(rank, shown(hit)) + below)
            if not any(hit.score >= cut for hit in hits):
                click.echo(f"  no good match: search shows nothing at the {cut:g} cut")
        click.echo(f"\nSearch the demo library yourself with: {again} 'your words'")
