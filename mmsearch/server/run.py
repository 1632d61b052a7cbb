"""Run the app with uvicorn on a socket we bind ourselves (so ``--port 0`` works and the address
is known before the discovery file is written), and remove that file however the server ends."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from ..errors import ConfigError
from . import discovery
from .app import create_app
from .config import ServerConfig, is_loopback

if TYPE_CHECKING:
    from ..engine import Engine


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another with --port "
                          "(--port 0 takes any free one)") from None
    # Accepted connections inherit this: without it, Nagle's algorithm holds the response body
    # until the client's delayed ACK of the headers, adding ~40 ms to every warm search.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_for(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    # A server on all addresses is still reached locally through loopback.
    local = host if is_loopback(host) else ("::1" if ":" in host else "127.0.0.1")
    return f"http://[{local}]:{port}" if ":" in local else f"http://{local}:{port}"


def serve(engine: Engine, open_engine: Callable[[], Engine], config: ServerConfig, sock: socket.socket, host: str,
          announce: Callable[[str], None] = lambda line: print(line, file=sys.stderr), log_level: str = "warning",
          started: Callable[[uvicorn.Server], None] | None = None) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM), with the discovery file in place meanwhile.
    ``started`` receives the uvicorn server before it runs (tests stop it with ``should_exit``)."""
    url = url_for(sock, host)
    index_dir: Path = engine.index_dir
    info = discovery.Discovery(url, os.getpid(), socket.gethostname(), str(index_dir),
                               engine.db.url.render_as_string(hide_password=True), bool(config.token))
    app = create_app(engine, open_engine, config)
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False, timeout_graceful_shutdown=10))
    # A second server on one index took the record over and removed it on exit, leaving the first
    # (still running) unknown to `mmsearch search` (an outside probe): the first keeps it.
    other = discovery.live(index_dir)
    ours = other is None or other.pid == os.getpid()
    if ours:
        discovery.write(index_dir, info)
    restore = _terminate_by_exception()
    try:
        if ours:
            announce(f"Serving {index_dir} at {url}/ (API docs at {url}/docs); `mmsearch search` on this index now uses it. "
                     "Ctrl-C to stop.")
        else:
            announce(f"Serving {index_dir} at {url}/ (API docs at {url}/docs). Another server (pid {other.pid}, {other.url}) "
                     "already serves this index and stays the one `mmsearch search` uses. Ctrl-C to stop.")
        if started is not None:
            started(server)
        server.run(sockets=[sock])
    finally:
        discovery.remove(index_dir, os.getpid())
        restore()


def _terminate_by_exception() -> Callable[[], None]:
    """Make SIGTERM raise SystemExit while serving. uvicorn shuts down gracefully on SIGTERM and
    then re-raises the signal to the handler it found; the default one ends the process on the
    spot, before any ``finally`` (the discovery file stayed behind). Returns what undoes it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signal handlers belong to the main thread (tests serve from others)
    previous = signal.getsignal(signal.SIGTERM)

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)
    return lambda: signal.signal(signal.SIGTERM, previous)
