"""``mmsearch serve``: hold the index and its models warm behind an HTTP API and a web page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import ConfigError
from .common import open_engine

if TYPE_CHECKING:
    from ..engine import Engine


def register(cli: click.Group) -> None:
    cli.add_command(serve)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback requires --token.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one).")
@click.option("--token", envvar="MMSEARCH_TOKEN", help="Require this token on every request [env MMSEARCH_TOKEN].")
@click.option("--root", "roots", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="A folder indexing jobs may run in (repeatable); the libraries already indexed always may.")
@click.option("--cors-origin", "cors", multiple=True, help="Allow browser pages from this origin to call the API (repeatable).")
@click.option("--max-upload-mb", default=50, show_default=True, type=click.IntRange(1), help="Largest example file accepted.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, token: str | None, roots: tuple[str, ...], cors: tuple[str, ...],
          max_upload_mb: int) -> None:
    """Serve the index over HTTP: a JSON API (docs at /docs) and a search page at /.

    Models stay loaded, so searches take milliseconds, and `mmsearch search` on the same index
    asks this server instead of loading them again.

    \b
      mmsearch serve                       # http://127.0.0.1:8765/
      mmsearch serve --root ~/Pictures     # also allow indexing jobs in ~/Pictures
      MMSEARCH_TOKEN=s3cret mmsearch serve --host 0.0.0.0
    """
    try:
        from ..server.config import ServerConfig, check_bind, is_loopback
        from ..server.run import bind, serve as run_server
    except ImportError as exc:
        raise ConfigError(f"`mmsearch serve` needs the server extra ({exc.name} is missing): "
                          "pip install 'mmsearch[server]'") from None

    check_bind(host, token)
    sock = bind(host, port)  # fail on a busy port before loading any model
    obj = ctx.find_root().obj
    config = ServerConfig(
        token=token or None,
        roots=tuple(Path(r).resolve() for r in roots),
        max_upload_bytes=max_upload_mb * 1024 * 1024,
        cors_origins=cors,
        # On loopback, refuse other Host names: a web page cannot rebind a DNS name to us.
        allowed_hosts=("127.0.0.1", "localhost", "[::1]", "::1") if is_loopback(host) else None,
    )
    engine = open_engine(ctx)
    try:
        _warm(engine)
        # Relative names in a query are looked up from here: keep that the index, not the caller's folder.
        os.chdir(engine.index_dir)

        def job_engine() -> Engine:  # each indexing job gets its own: the server's stays free for searches
            from ..engine import Engine

            return Engine.open(engine.index_dir, db=obj["db"], embedders=obj["embedders"])

        run_server(engine, job_engine, config, sock, host, announce=lambda line: click.echo(line, err=True))
    finally:
        engine.close()


def _warm(engine: Engine) -> None:
    """Load the models and the query bank now rather than on the first request."""
    from ..errors import MMSearchError

    for embedder in engine.embedders:
        embedder.ensure_loaded()
    try:
        engine.search("warm up", k=1, min_score=0)
    except MMSearchError:
        pass  # an empty index has nothing to warm
