"""Indexing jobs run in a background thread with their own Engine, so searches on the server's
Engine go on meanwhile and see each batch as soon as it is committed (``Engine.search`` refreshes
its vector caches from SQL). One job at a time: a second waits for no one, it is refused."""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MMSearchError
from ..types import FileReport

if TYPE_CHECKING:
    from ..engine import Engine

OpenEngine = Callable[[], "Engine"]


class Cancelled(Exception):
    """Raised from the progress callback to stop a run; what was committed stays."""


@dataclass(frozen=True)
class JobView:
    id: str
    path: str
    state: str  # running | cancelling | done | failed | cancelled
    done: int = 0
    total: int = 0
    current: str = ""
    summary: dict[str, Any] | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def over(self) -> bool:
        return self.state not in ("running", "cancelling")


class Jobs:
    def __init__(self, open_engine: OpenEngine) -> None:
        self._open = open_engine
        self._lock = threading.Lock()
        self._views: dict[str, JobView] = {}
        self._cancel: dict[str, threading.Event] = {}
        self._threads: dict[str, threading.Thread] = {}

    def start(self, path: Path) -> JobView:
        with self._lock:
            running = [v for v in self._views.values() if not v.over]
            if running:
                raise MMSearchError(f"an indexing job ({running[0].id}) is already running on {running[0].path}; "
                                    "wait for it or cancel it first")
            # Until the first file is settled (the folder is walked, the models load) say so, not 0/0.
            view = JobView(uuid.uuid4().hex[:12], str(path), "running", current="looking for files and loading the models")
            self._views[view.id] = view
            self._cancel[view.id] = threading.Event()
        thread = threading.Thread(target=self._run, args=(view.id, path), name=f"mmsearch-job-{view.id}", daemon=True)
        self._threads[view.id] = thread
        thread.start()
        return view

    def get(self, job_id: str) -> JobView | None:
        with self._lock:
            return self._views.get(job_id)

    def all(self) -> list[JobView]:
        with self._lock:
            return sorted(self._views.values(), key=lambda v: v.started, reverse=True)

    def running(self) -> bool:
        with self._lock:
            return any(not v.over for v in self._views.values())

    def cancel(self, job_id: str) -> JobView | None:
        """Ask a job to stop; it says "cancelling" until the batch in hand is committed."""
        with self._lock:
            event = self._cancel.get(job_id)
            view = self._views.get(job_id)
            if event is not None and view is not None and view.state == "running":
                event.set()
                self._views[job_id] = replace(view, state="cancelling")
        return self.get(job_id)

    def wait(self, job_id: str, timeout: float | None = None) -> JobView | None:
        thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)
        return self.get(job_id)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Cancel what runs and wait for it to commit its last batch and close its engine."""
        for job_id in list(self._cancel):
            self.cancel(job_id)
        for thread in list(self._threads.values()):
            thread.join(timeout)

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            self._views[job_id] = replace(self._views[job_id], **changes)

    def _run(self, job_id: str, path: Path) -> None:
        cancel = self._cancel[job_id]

        def progress(report: FileReport, done: int, total: int) -> None:
            self._update(job_id, done=done, total=total, current=report.path)
            if cancel.is_set():
                raise Cancelled

        try:
            if cancel.is_set():
                raise Cancelled
            with self._open() as engine:
                engine.on_wait = lambda message: self._update(job_id, current=message)  # "Waiting for pid …"
                summary = engine.index([path], progress=progress)
            self._update(job_id, state="done", summary=summary.to_dict(), finished=time.time())
        except Cancelled:
            self._update(job_id, state="cancelled", finished=time.time())
        except MMSearchError as exc:
            self._update(job_id, state="failed", error=str(exc), finished=time.time())
        except Exception as exc:  # noqa: BLE001 - a job must end with a state, whatever broke
            traceback.print_exc()
            self._update(job_id, state="failed", error=f"{type(exc).__name__}: {exc}", finished=time.time())
