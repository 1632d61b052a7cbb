"""The ``mmsearch`` command line: one module per command group, plugins may add their own."""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
import warnings
from typing import Any

import click

from .. import warm
from ..errors import MMSearchError, PluginError
from . import calibrate_cmd, db_cmd, demo_cmd, eval_cmd, index_cmd, info_cmd, rebuild_bar, search_cmd, serve_cmd
from . import common
from .common import Group
from .context import CliContext


class RootGroup(Group):
    """Plugin commands are loaded when a name is not a built-in one, or for a listing (--help):
    importing every plugin's entry point to run a built-in command cost 0.13 s of a 1.3 s cold
    search. Broken plugins are still named on every command that opens an index (Engine.open
    builds the plugin manager)."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and _add_plugin_commands():
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        _add_plugin_commands()
        return super().list_commands(ctx)


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index", "index_dir", envvar="MMSEARCH_INDEX", type=click.Path(file_okay=False),
              help="Index directory [env MMSEARCH_INDEX; default: the user data directory].")
@click.option("--db", envvar="MMSEARCH_DB", help="SQLAlchemy database URL [env MMSEARCH_DB; default: SQLite in the index].")
@click.option("--embedder", "embedders", envvar="MMSEARCH_EMBEDDERS", multiple=True,
              help="Embedder for a new index (repeatable) [env MMSEARCH_EMBEDDERS]; see `mmsearch models`.")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="mmsearch")
@click.pass_context
def cli(ctx: click.Context, index_dir: str | None, db: str | None, embedders: tuple[str, ...], debug: bool) -> None:
    """Search your own photos, documents, recordings and videos in plain words or by example."""
    if debug:  # what decoders warned about each file (routed to the "mmsearch.index" logger) and more
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
        logging.getLogger("mmsearch").setLevel(logging.DEBUG)
    rebuild_bar.install()
    split = [e.strip() for value in embedders for e in value.split(",") if e.strip()]
    ctx.obj = CliContext(index=index_dir, db=db, embedders=tuple(split) or None, debug=debug)


for module in (index_cmd, search_cmd, info_cmd, db_cmd, demo_cmd, serve_cmd, eval_cmd, calibrate_cmd):
    module.register(cli)


_plugin_commands_loaded = False


def _add_plugin_commands() -> bool:
    """Register the plugins' commands, once per process; True the first time."""
    global _plugin_commands_loaded
    if _plugin_commands_loaded:
        return False
    _plugin_commands_loaded = True
    from ..plugins import disable, make_plugin_manager

    try:
        pm = make_plugin_manager()
    except MMSearchError as exc:  # e.g. two plugins with one name: say so, keep the core commands
        click.echo(f"Warning: {exc}", err=True)
        return True
    for impl in pm.hook.register_commands.get_hookimpls():
        name = pm.get_name(impl.plugin) or repr(impl.plugin)
        before = dict(cli.commands)
        try:
            impl.function(**{arg: cli for arg in impl.argnames})
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the whole CLI down
            disable(pm, name, f"register_commands raised {type(exc).__name__}: {' '.join(str(exc).split())}")
        for command_name, command in list(cli.commands.items()):
            if before.get(command_name) is command:
                continue
            if command_name in before:
                # A built-in still runs (it is found before plugin commands load), so --help would
                # show the plugin's text for a command that does not run its code: keep the built-in.
                cli.commands[command_name] = before[command_name]
                disable(pm, name, f"its command {command_name!r} has the name of a built-in command; rename it")
                continue
            _guard(command, name)
    return True


def _guard(command: click.Command, plugin: str) -> None:
    """A plugin command that raises gives one ``Error:`` line naming it (a traceback with --debug),
    as a hook that raises gives one ``Warning:`` line, instead of a bare traceback."""
    callback = command.callback
    if callback is None:
        return

    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (MMSearchError, click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # already one line, or click's own way out
        except Exception as exc:  # noqa: BLE001 - the plugin's bug, reported as such
            raise PluginError(f"plugin command {command.name!r} (plugin {plugin}) failed: {type(exc).__name__}: "
                              f"{' '.join(str(exc).split()) or 'no details'}; run with --debug for the traceback, "
                              f"and report it to the plugin's author") from exc

    command.callback = guarded


def _one_line_warnings() -> None:
    """A disabled plugin's warning as one ``Warning:`` line, without a source excerpt."""

    from ..plugins import PluginWarning

    original = warnings.showwarning
    shown: set[str] = set()  # a command may build the plugin manager twice: say each thing once

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, PluginWarning):
            if str(message) not in shown:
                shown.add(str(message))
                click.echo(f"Warning: {message}", err=True)
        else:
            original(message, category, *args, **kwargs)

    warnings.showwarning = show


def _stopping(signum: int, _frame: object) -> None:
    # `timeout`, systemd and `docker stop` send SIGTERM: stop as Ctrl-C does (what finished is
    # kept, the lock note goes), instead of dying silently with the note left behind. Files being
    # read are finished or cancelled first, which can take half a minute on a loaded machine:
    # say so at once, so that the wait does not look like a hang.
    if common.stop_signal is not None:
        # Already stopping: a second Ctrl-C raised again wherever the first was being handled
        # (inside click's unwinding it became "Aborted!" and exit 1, in CI); once is enough.
        return
    common.stop_signal = signum
    # os.write, not print: the handler may run while the main thread is inside a write to
    # stderr (the progress bar), and a buffered stream refuses a reentrant call.
    try:
        os.write(2, b"Stopping after the files in progress (what is finished is kept)...\n")
    except OSError:  # stderr closed: stop anyway
        pass
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> Any:
    _one_line_warnings()
    common.stop_signal = None  # a fresh command (tests run several in one process)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stopping)
        # Ctrl-C too, but only where it would interrupt anyway: a background job (`nohup … &`)
        # starts with SIGINT ignored, and that must stay so.
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _stopping)
    try:
        return cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="mmsearch")
    finally:
        # The command is done; the process is about to exit. Interpreter shutdown runs one last
        # full garbage collection over everything still alive, which with a model loaded takes
        # seconds (a search through torch: 2.0 s; through the ONNX text tower: 0.34 s). Frozen
        # objects are skipped by it: 0.45 s and 0.07 s (mmsearch.bench coldsearch measures it).
        gc.freeze()
        warm.finish()
