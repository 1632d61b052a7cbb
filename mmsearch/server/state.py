"""What the routes share: the warm Engine behind a lock, the jobs, the settings, the roots."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store.models import Root
from .config import ServerConfig
from .jobs import Jobs

if TYPE_CHECKING:
    from ..engine import Engine


@dataclass
class ServerState:
    engine: Engine
    jobs: Jobs
    config: ServerConfig
    # The Engine is not thread-safe (its FAISS caches refresh in place): requests take turns.
    # Searches are short; indexing runs on its own Engine in a job thread, outside this lock.
    lock: threading.Lock

    @contextmanager
    def using(self) -> Iterator[Engine]:
        with self.lock:
            yield self.engine

    def library_roots(self) -> dict[int, Path]:
        """The libraries indexed so far, by root id (read fresh: a job may have added one)."""
        with Session(self.engine.db) as session:
            return {rid: Path(path) for rid, path in session.execute(select(Root.id, Root.path))}

    def job_roots(self) -> list[Path]:
        return [p.resolve() for p in (*self.config.roots, *self.library_roots().values())]

    def thumbs_dir(self) -> Path:
        return self.engine.index_dir / "thumbs"


def get_state(request: Request) -> ServerState:
    state: ServerState | None = getattr(request.app.state, "mmsearch", None)
    if state is None:
        raise HTTPException(503, "the server is starting; try again in a moment")
    return state
