"""A real server on 127.0.0.1 in a thread, through the same ``run.serve`` as ``mmsearch serve``
(discovery file included). Imported by tests/test_server_*.py (not a test module itself)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed: pip install -e '.[server]'")

import mmsearch  # noqa: E402
from mmsearch.server.config import ServerConfig  # noqa: E402
from mmsearch.server.run import bind, serve, url_for  # noqa: E402


@contextmanager
def live_server(engine: mmsearch.Engine, open_engine: Callable[[], mmsearch.Engine],
                config: ServerConfig | None = None) -> Iterator[str]:
    sock = bind("127.0.0.1", 0)
    holder: list = []
    thread = threading.Thread(target=serve, args=(engine, open_engine, config or ServerConfig(), sock, "127.0.0.1"),
                              kwargs={"announce": lambda line: None, "started": holder.append}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not (holder and holder[0].started):
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield url_for(sock, "127.0.0.1")
    finally:
        holder[0].should_exit = True
        thread.join(30)
