"""What every command shares: one-line errors, opening the engine from the global options."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import MMSearchError
from ..paths import printable

if TYPE_CHECKING:
    from ..engine import Engine


#: The signal (SIGINT or SIGTERM) that asked this process to stop, set by the CLI's handler; it
#: decides the exit status.
stop_signal: int | None = None


class Group(click.Group):
    """Turns MMSearchError into one line on stderr and exit code 1 (a traceback only with --debug);
    a command given ``--json`` also prints it as JSON on stdout, ``{"error": {"type", "message"}}``,
    so that a script reading the output gets a document either way."""

    def invoke(self, ctx: click.Context) -> Any:
        as_json = _wants_json(list(ctx.args))  # read now: click empties ctx.args as it invokes the command
        try:
            return super().invoke(ctx)
        except MMSearchError as exc:
            if (ctx.obj or {}).get("debug"):
                raise
            if as_json:
                echo_json({"error": {"type": type(exc).__name__, "message": str(exc)}})
            click.echo(f"Error: {printable(str(exc))}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            # A second Ctrl-C while this one is being handled gave a traceback and exit -2.
            if threading.current_thread() is threading.main_thread():
                _ignore_further_ctrl_c()
            # True of every command: an index run commits file by file, so what finished is kept and
            # a file cut off in the middle (a long PDF, a film) is read again next time.
            click.echo("Interrupted. Files finished before this point are kept; a file cut off while being read "
                       "is read again on the next run.", err=True)
            # 128 + the signal, as shells, `timeout` and service managers expect: 143 for SIGTERM,
            # 130 for Ctrl-C (also when the KeyboardInterrupt came from no signal of ours).
            ctx.exit(128 + (stop_signal or signal.SIGINT))


def _ignore_further_ctrl_c() -> None:
    """A no-op handler, not SIG_IGN: a Ctrl-C already pending when SIG_IGN is set makes Python raise
    "OSError: Signal 2 ignored due to race condition" at the next bytecode (a CI run showed its
    traceback). Setting the handler first runs a pending one, which raises KeyboardInterrupt: retry."""
    for _ in range(5):
        try:
            signal.signal(signal.SIGINT, _ignore_signal)
            return
        except KeyboardInterrupt:
            continue


def _ignore_signal(signum: int, frame: object) -> None:
    return None


def _wants_json(args: list[str]) -> bool:
    """Whether the command's own options (before any ``--``) ask for --json."""
    return "--json" in (args[: args.index("--")] if "--" in args else args)


def open_engine(ctx: click.Context, announce: bool = True, index: str | None = None) -> Engine:
    """The Engine the global options name (``index``, when given, instead of ``--index``)."""
    from ..engine import Engine  # imported on use: `mmsearch --help` need not load FAISS

    obj = ctx.find_root().obj
    engine = Engine.open(index or obj["index"], db=obj["db"], embedders=obj["embedders"])
    if announce and engine.space_note:
        click.echo(engine.space_note, err=True)
    return engine


def echo_json(data: Any) -> None:
    # A file name that is not UTF-8 reaches us surrogate-escaped; JSON writes it as "\\udcff",
    # which json.loads turns back into the same str (os.fsencode gives the original bytes).
    text = json.dumps(data, indent=2, ensure_ascii=False)
    click.echo(text.encode("utf-8", "backslashreplace").decode("utf-8"))


def require_index(ctx: click.Context) -> None:
    """Refuse, before opening (which would create an empty index), to read an index that does not exist."""
    index_dir, exists = index_location(ctx)
    if not exists:
        if index_dir.is_dir() and any(index_dir.glob("space-*.faiss")):  # caches of an index whose database is elsewhere
            raise MMSearchError(f"{index_dir} holds vector caches but no index database: for an index kept in PostgreSQL, "
                                "give its URL with --db (or MMSEARCH_DB, or db = \"...\" in mmsearch.toml there)")
        raise MMSearchError(f"there is no index at {index_dir} yet; index a folder first: mmsearch index PATH")


def require_media(engine: Engine) -> None:
    """Refuse to search an index with nothing in it: "No matches" would blame the query."""
    from sqlalchemy import select

    from ..store.models import Media

    with engine.db.connect() as conn:
        if conn.scalar(select(Media.id).where(Media.status == "indexed").limit(1)) is None:
            raise MMSearchError(f"the index at {engine.index_dir} holds no indexed files yet, so there is nothing to search; "
                                f"add some with: mmsearch index PATH (see mmsearch status)")


def index_location(ctx: click.Context) -> tuple[Path, bool]:
    """The index directory the global options point at, and whether an index is there, found
    without opening (which would create one)."""
    from ..engine import default_index_dir  # imported on use: `mmsearch --help` need not load FAISS
    from ..settings import Settings
    from ..store.db import DB_FILE

    obj = ctx.find_root().obj
    index_dir = Path(obj["index"] or Settings().get("index") or default_index_dir()).expanduser().resolve()
    if not index_dir.is_dir():
        return index_dir, False
    has_db = obj["db"] or Settings.load(index_dir).get("db")
    return index_dir, bool(has_db) or (index_dir / DB_FILE).is_file()


def human_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
