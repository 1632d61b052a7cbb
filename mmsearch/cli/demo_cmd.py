"""``mmsearch demo``: build a small library of real media, index it, and run a few searches."""

from __future__ import annotations

from pathlib import Path

import click
import platformdirs

from .. import demo as demo_library
from .common import open_engine
from .index_cmd import summary_line
from ..search.searcher import DEFAULT_MIN_SCORE
from .search_cmd import format_hit


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
    if root["index"] is None:
        root["index"] = str(target.parent / "demo-index")
    library = demo_library.build(target)
    click.echo(f"Demo library: {library}")
    with open_engine(ctx) as engine:
        click.echo(summary_line(engine.index([library])))
        cut = float(engine.settings.get("search.min_score", DEFAULT_MIN_SCORE))
        for query in demo_library.QUERIES:
            # Every query, with its weak matches too: what a search shows and what the cut hides.
            click.echo(f'\nmmsearch search "{query}"')
            hits = engine.search(query, k=k, min_score=0.0)
            for rank, hit in enumerate(hits, start=1):
                click.echo(format_hit(rank, hit) + (f"   (below the {cut:g} cut: not shown by search)" if hit.score < cut else ""))
            if not any(hit.score >= cut for hit in hits):
                click.echo(f"  no good match: search shows nothing at the {cut:g} cut")
