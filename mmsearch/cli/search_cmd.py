"""``mmsearch search``: the query language on the command line, ranked lines or JSON."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from .. import warm
from ..errors import QueryError
from ..paths import printable
from ..search.query import MAX_K, MAX_OFFSET
from ..server import discovery
from ..types import Hit
from .common import echo_json, open_engine, require_index, require_media

if TYPE_CHECKING:
    from ..search.query import Query
    from ..server.client import Client

SNIPPET = 100


class Score(click.FloatRange):
    """A score from 0 to 1. NaN compares false with both bounds, so a plain FloatRange lets it
    through and the search silently finds nothing; refuse it like any other value out of range."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        score = super().convert(value, param, ctx)
        if math.isnan(score):
            self.fail(f"{value!r} is not a number; give a score from 0 to 1, e.g. 0.5", param, ctx)
        return score


def server_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse a malformed ``--server`` here, as a usage error, rather than as a traceback from urllib."""
    from ..server.client import url_problem

    problem = url_problem(value) if value else None
    if problem:
        raise click.BadParameter(problem, ctx, param)
    return value


def register(cli: click.Group) -> None:
    cli.add_command(search)


@click.command(context_settings={"ignore_unknown_options": False})
@click.argument("words", nargs=-1)
@click.option("--image", "images", multiple=True, type=click.Path(dir_okay=False),
              help="Search by example: an image (or any indexable file). Repeatable; combines with the query.")
@click.option("-k", "--limit", "k", default=10, show_default=True, type=click.IntRange(1, MAX_K),
              help=f"How many results (at most {MAX_K}).")
@click.option("--offset", default=0, type=click.IntRange(0, MAX_OFFSET),
              help=f"Skip this many results (paging; at most {MAX_OFFSET}).")
@click.option("--type", "types", multiple=True, help="Only these modalities (image, text, pdf, document, audio, video). Repeatable.")
@click.option("--path", "path_glob", help="Only files whose path (relative to its library) or name matches this glob; without a wildcard, also files in a folder of that name.")
@click.option("--min-score", type=Score(0, 1), default=None,
              help="Drop results whose calibrated score is below this (0–1; default: setting search.min_score).")
@click.option("--fuser", default="weighted", show_default=True, help="How legs combine: weighted or rrf (or a plugin's).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.option("--explain", is_flag=True, help="Show the legs, raw and calibrated scores and evidence of each result (--json always carries them).")
@click.option("--server", "server_url", envvar="MMSEARCH_SERVER", callback=server_url,
              help="Ask this `mmsearch serve` URL [env MMSEARCH_SERVER; default: the index's running server, if any].")
@click.option("--no-server", is_flag=True, help="Search in this process even when a server for the index is running.")
@click.pass_context
def search(ctx: click.Context, words: tuple[str, ...], images: tuple[str, ...], k: int, offset: int, types: tuple[str, ...],
           path_glob: str | None, min_score: float | None, fuser: str, as_json: bool, explain: bool, server_url: str | None,
           no_server: bool) -> None:
    """Search the index. The query is text and/or example files, with weights, negatives and filters:

    \b
      mmsearch search a red car at night
      mmsearch search '"red car" + ./ref.jpg - night type:image after:2021'
      mmsearch search '2:"golden retriever" -cat path:"pets/*" size:<5MB'
    """
    query = build_query(join_words(words), images, types, path_glob)
    client = None if no_server else _server_client(ctx, server_url)
    # With nothing above the cut, a terminal user still sees the closest few, marked as not
    # confident: the cut can hide a right answer (mmsearch/eval/RESULTS.md), and "No matches." alone
    # gives no way to tell. Scripts (--json) and pages past the first get the cut's answer only.
    wants_closest = not as_json and offset == 0 and min_score != 0.0 and interactive()
    closest: list[Hit] = []
    if client is not None:  # a warm server for this index: no model load here
        hits = client.search(query, k=k, offset=offset, min_score=min_score, fuser=fuser)
        if not hits and wants_closest:
            closest = client.search(query, k=CLOSEST, offset=0, min_score=0.0, fuser=fuser)
    else:
        index_dir = discovery.index_dir_for(ctx.find_root().obj["index"])
        warm.start(index_dir)  # the text tower opens in a thread while the engine imports
        require_index(ctx)  # opening would create an empty index as a side effect of a search
        with open_engine(ctx) as engine:
            check_types(query, set(engine.registry.modalities))
            require_media(engine)
            hits = engine.search(query, k=k, offset=offset, min_score=min_score, fuser=fuser)
            if not hits and wants_closest:
                closest = engine.search(query, k=CLOSEST, min_score=0.0, fuser=fuser)
        warm.remember(index_dir)
    print_hits(hits, offset, as_json, explain)
    if closest:
        print_closest(closest, min_score)


CLOSEST = 3  # below-the-cut results shown when nothing passes it


def interactive() -> bool:
    """A person at a terminal: only they get the closest results under the cut. What a script
    captures (stdout and stderr alike) stays "no match", so it never reads them as answers."""
    return sys.stdout.isatty() and sys.stderr.isatty()


def print_closest(hits: list[Hit], min_score: float | None) -> None:
    """The best results under the cut, on stderr, marked "~" instead of a rank."""
    cut = "the cut (setting search.min_score)" if min_score is None else f"--min-score {min_score:g}"
    click.echo(f"Closest results, all under {cut}, so not confident matches:", err=True)
    for rank, hit in enumerate(hits, start=1):
        click.echo(format_hit(rank, shown(hit)).replace(f"{rank:>3}.", "  ~", 1) + "   (under the cut)", err=True)
    click.echo("Show more with --min-score 0; `mmsearch eval` tells which cut suits your library.", err=True)


def build_query(text: str, images: tuple[str, ...], types: tuple[str, ...], path_glob: str | None) -> Query:
    from ..search.parse import parse
    from ..search.query import Filters, Query, file_part

    extra = [file_part(image) for image in images]
    query = parse(text, extra) if text.strip() else Query.build(files=images)
    return query.with_filters(Filters(frozenset(t.strip() for v in types for t in v.split(",") if t.strip()), path_glob))


def check_types(query: Query, known: set[str]) -> None:
    """The same refusal in-process and in a server (which sends it back as the error line)."""
    from ..search.query import check_types as check

    check(query, known, "--type")


def _server_client(ctx: click.Context, url: str | None) -> Client | None:
    """``--server URL`` (must answer), else the live server of this index (a stale one is ignored)."""
    from ..server import client

    obj = ctx.find_root().obj
    if url:
        chosen = client.Client(url, os.environ.get(client.TOKEN_ENV) or None)
        chosen.health()
        return chosen
    return client.for_index(obj["index"], obj["db"])


def print_hits(hits: list[Hit], offset: int, as_json: bool, explain: bool) -> None:
    """The one output format, whether the hits came from this process or from a server."""
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


def join_words(words: tuple[str, ...]) -> str:
    """The shell split the query; quote again the words it unquoted (``"red car"`` arrives as one
    argument with a space), so ``mmsearch search "red car" + ./ref.jpg`` means what it says."""
    if len(words) == 1:
        return words[0]
    return " ".join(f'"{w}"' if any(c.isspace() for c in w) and '"' not in w else w for w in words)


def format_hit(rank: int, hit: Hit) -> str:
    """``  1. 0.912  /lib/clip.mp4#t=83.2 @ 01:23–01:31 "…text…"`` or
    ``  2. 0.874  /lib/manual.pdf#page=212 p. 212 "…text…"``: the path is a deep link."""
    line = f"{rank:>3}. {hit.score:.3f}  {hit.link()}"
    best = hit.best
    if best is not None:
        loc = best.locator
        # A page names where to look in a long document; character offsets would only be noise.
        where = loc.describe() if loc.start is not None else (f"p. {loc.page}" if loc.page is not None else "")
        if where:
            line += f" {where}"
        if best.text and (loc.start is not None or loc.page is not None or loc.box is not None):  # box: OCR text
            text = " ".join(best.text.split())
            line += f' "{text[:SNIPPET]}{"…" if len(text) > SNIPPET else ""}"'
    return line


def shown(hit: Hit) -> Hit:
    """``hit`` with every name and text safe to print: a newline or escape sequence in a file
    name would otherwise start a forged result line."""
    # Runs of whitespace (a PDF page's line breaks, OCR's blank lines) are one space in a snippet
    # (a shown "\n" is noise); what is left unprintable is escaped, never sent to the terminal.
    evidence = tuple(replace(e, text=printable(" ".join(e.text.split())) if e.text else e.text) for e in hit.evidence)
    legs = {printable(name): score for name, score in hit.legs.items()}
    # The path is stored escaped (paths.encode_relpath); the absolute one is the OS's, so its literal
    # backslashes are doubled here as there: `caf\\xe9` (a backslash) never looks like byte 0xe9.
    abspath = printable(hit.abspath.replace("\\", "\\\\"))
    return replace(hit, path=printable(hit.path), abspath=abspath, evidence=evidence, legs=legs)
