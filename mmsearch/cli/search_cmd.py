"""``mmsearch search``."""

from __future__ import annotations

import click

from ..errors import QueryError
from ..types import Hit
from .common import echo_json, open_engine

SNIPPET = 100


def register(cli: click.Group) -> None:
    cli.add_command(search)


@click.command()
@click.argument("text", required=False)
@click.option("--image", "images", multiple=True, type=click.Path(dir_okay=False),
              help="Search by example: an image (or any indexable file). Repeatable; combines with TEXT.")
@click.option("-k", "--limit", "k", default=10, show_default=True, type=click.IntRange(1), help="How many results.")
@click.option("--offset", default=0, type=click.IntRange(0), help="Skip this many results (paging).")
@click.option("--type", "types", multiple=True, help="Only these modalities (image, text, audio, video). Repeatable.")
@click.option("--path", "path_glob", help="Only files whose path (relative to its library) or name matches this glob.")
@click.option("--min-score", default=0.0, show_default=True, type=float, help="Drop results scoring below this (0–1).")
@click.option("--fuser", default="weighted", show_default=True, help="How legs combine: weighted or rrf.")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.option("--explain", is_flag=True, help="Show the legs, raw and calibrated scores and evidence of each result.")
@click.pass_context
def search(ctx: click.Context, text: str | None, images: tuple[str, ...], k: int, offset: int, types: tuple[str, ...],
           path_glob: str | None, min_score: float, fuser: str, as_json: bool, explain: bool) -> None:
    """Search the index for TEXT and/or example files."""
    from ..search.query import Query

    query = Query.build(text=text, files=images, types=[t.strip() for v in types for t in v.split(",")], path=path_glob)
    with open_engine(ctx) as engine:
        known = set(engine.registry.modalities)
        unknown = sorted(set(query.filters.types) - known)
        if unknown:
            raise QueryError(f"unknown --type {', '.join(unknown)}; installed modalities: {', '.join(sorted(known))}")
        hits = engine.search(query, k=k, offset=offset, min_score=min_score, fuser=fuser)
    if as_json:
        echo_json([h.to_dict() for h in hits])
        return
    if not hits:
        click.echo("No matches.", err=True)
        return
    for rank, hit in enumerate(hits, start=offset + 1):
        click.echo(format_hit(rank, hit))
        if explain:
            click.echo("\n".join("    " + line for line in hit.explain().splitlines()[1:]))


def format_hit(rank: int, hit: Hit) -> str:
    line = f"{rank:>3}. {hit.score:.3f}  {hit.abspath}"
    best = hit.best
    if best is not None:
        where = best.locator.describe() if best.locator.start is not None or best.locator.page is not None else ""
        if where:
            line += f" {where}"
        if best.text and best.locator.start is not None:
            text = " ".join(best.text.split())
            line += f' "{text[:SNIPPET]}{"…" if len(text) > SNIPPET else ""}"'
    return line
