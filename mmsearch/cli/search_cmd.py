"""``mmsearch search``: the query language on the command line, ranked lines or JSON."""

from __future__ import annotations

from dataclasses import replace

import click

from ..errors import QueryError
from ..paths import printable
from ..types import Hit
from .common import echo_json, open_engine, require_index, require_media

SNIPPET = 100


def register(cli: click.Group) -> None:
    cli.add_command(search)


@click.command(context_settings={"ignore_unknown_options": False})
@click.argument("words", nargs=-1)
@click.option("--image", "images", multiple=True, type=click.Path(dir_okay=False),
              help="Search by example: an image (or any indexable file). Repeatable; combines with the query.")
@click.option("-k", "--limit", "k", default=10, show_default=True, type=click.IntRange(1), help="How many results.")
@click.option("--offset", default=0, type=click.IntRange(0), help="Skip this many results (paging).")
@click.option("--type", "types", multiple=True, help="Only these modalities (image, text, audio, video). Repeatable.")
@click.option("--path", "path_glob", help="Only files whose path (relative to its library) or name matches this glob.")
@click.option("--min-score", type=click.FloatRange(0, 1), default=None,
              help="Drop results whose calibrated score is below this (0–1; default: setting search.min_score).")
@click.option("--fuser", default="weighted", show_default=True, help="How legs combine: weighted or rrf (or a plugin's).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.option("--explain", is_flag=True, help="Show the legs, raw and calibrated scores and evidence of each result.")
@click.pass_context
def search(ctx: click.Context, words: tuple[str, ...], images: tuple[str, ...], k: int, offset: int, types: tuple[str, ...],
           path_glob: str | None, min_score: float | None, fuser: str, as_json: bool, explain: bool) -> None:
    """Search the index. The query is text and/or example files, with weights, negatives and filters:

    \b
      mmsearch search a red car at night
      mmsearch search '"red car" + ./ref.jpg - night type:image after:2021'
      mmsearch search '2:"golden retriever" -cat path:"pets/*" size:<5MB'
    """
    from ..search.query import Filters, Query, file_part

    text = join_words(words)
    extra = [file_part(image) for image in images]
    query = Query.parse(text).with_parts(extra) if text.strip() else Query.build(files=images)
    query = query.with_filters(Filters(frozenset(t.strip() for v in types for t in v.split(",") if t.strip()), path_glob))
    require_index(ctx)
    with open_engine(ctx) as engine:
        known = set(engine.registry.modalities)
        unknown = sorted(set(query.filters.types) - known)
        if unknown:
            raise QueryError(f"unknown --type {', '.join(unknown)}; installed modalities: {', '.join(sorted(known))}")
        require_media(engine)
        hits = engine.search(query, k=k, offset=offset, min_score=min_score, fuser=fuser)
    if as_json:
        echo_json([h.to_dict() for h in hits])
        return
    if not hits:
        click.echo("No matches.", err=True)
        return
    for rank, hit in enumerate(hits, start=offset + 1):
        click.echo(format_hit(rank, shown(hit)))
        if explain:
            click.echo("\n".join("    " + line for line in shown(hit).explain().splitlines()[1:]))


def shown(hit: Hit) -> Hit:
    """``hit`` with every name and text safe to print: a newline or escape sequence in a file
    name would otherwise start a forged result line."""
    evidence = tuple(replace(e, text=printable(e.text) if e.text else e.text) for e in hit.evidence)
    legs = {printable(name): score for name, score in hit.legs.items()}
    return replace(hit, path=printable(hit.path), abspath=printable(hit.abspath), evidence=evidence, legs=legs)


def join_words(words: tuple[str, ...]) -> str:
    """The shell split the query; quote again the words it unquoted (``"red car"`` arrives as one
    argument with a space), so ``mmsearch search "red car" + ./ref.jpg`` means what it says."""
    if len(words) == 1:
        return words[0]
    return " ".join(f'"{w}"' if any(c.isspace() for c in w) and '"' not in w else w for w in words)


def format_hit(rank: int, hit: Hit) -> str:
    """``  1. 0.912  /lib/clip.mp4#t=83.2 @ 01:23–01:31 "…text…"``: the path is a deep link."""
    line = f"{rank:>3}. {hit.score:.3f}  {hit.link()}"
    best = hit.best
    if best is not None:
        where = best.locator.describe() if best.locator.start is not None or best.locator.page is not None else ""
        if where:
            line += f" {where}"
        if best.text and best.locator.start is not None:
            text = " ".join(best.text.split())
            line += f' "{text[:SNIPPET]}{"…" if len(text) > SNIPPET else ""}"'
    return line
