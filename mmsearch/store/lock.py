"""The index-level writer lock: one process writes an index at a time; readers never take it.

* SQLite (the database is a file): a file lock (``filelock``: ``flock`` on POSIX) beside the
  database, plus a small JSON note naming the holder, since the lock itself cannot say who holds it.
* PostgreSQL: a session-level advisory lock in that database, because two machines may share one
  PostgreSQL store and neither sees the other's files. The holder is named through
  ``pg_stat_activity`` (its ``application_name`` carries our pid and host).

Both are released by the operating system or the server when the holder dies, so a crashed
``index`` run never leaves an index locked. A second writer waits, says once who holds the lock,
and gives up after ``lock_timeout`` seconds with a one-line error.

The advisory lock lives only as long as its connection, which can drop while the holder is
still running (server restart, ``idle_session_timeout``, ``pg_terminate_backend``, a NAT
forgetting an idle TCP session): the server then frees it silently and a second writer may take
it. So every commit of the holder first checks, inside the committing transaction, that the lock
is still its own, and the run stops with :class:`WriterLockLostError` if not. A second
"commit" advisory key, taken by that check for the rest of the transaction and waited on by a
writer that has just got the lock, means a check that passed is always followed by its commit
before the new holder writes or even reads what to do.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from .errors import IndexLockedError, ReadOnlyIndexError, WriterLockLostError

#: Advisory lock key (two int4s): "mmsr" and 1, the writer lock of the database's index.
PG_KEY = (0x6D6D7372, 1)
#: "mmsr" and 3: held by a writer's transaction from its lock check to its commit (see above).
PG_COMMIT_KEY = (0x6D6D7372, 3)
POLL_S = 0.25
DEFAULT_TIMEOUT_S = 600.0

Notify = Callable[[str], None]


@dataclass(frozen=True)
class Holder:
    """Who holds the writer lock, as far as can be told."""

    pid: int | None
    host: str | None
    since: datetime | None

    def describe(self) -> str:
        if self.pid is None:
            return "another mmsearch process"
        where = f" on {self.host}" if self.host else ""
        when = f" since {self.since:%Y-%m-%d %H:%M:%S} UTC" if self.since else ""
        return f"mmsearch pid {self.pid}{where}{when}"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@contextmanager
def writer_lock(db: Engine, lock_dir: Path, where: str, timeout: float = DEFAULT_TIMEOUT_S, notify: Notify | None = None,
                purpose: str = "write to") -> Iterator[None]:
    """Hold the writer lock of the index whose database is ``db`` for the ``with`` body."""
    if db.url.get_backend_name() == "postgresql":
        with _pg_lock(db, where, timeout, notify, purpose):
            yield
    else:
        with _file_lock(lock_file(db, lock_dir), where, timeout, notify, purpose):
            yield


def lock_file(db: Engine, lock_dir: Path) -> Path:
    """``<database file>.lock`` beside a file database, else ``write.lock`` in the index directory."""
    database = db.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        return Path(database).with_name(Path(database).name + ".lock")
    return lock_dir / "write.lock"


def _timed_out(where: str, holder: Holder, timeout: float, purpose: str) -> IndexLockedError:
    return IndexLockedError(
        f"cannot {purpose} the index at {where}: {holder.describe()} is writing to it and did not finish within "
        f"{timeout:g} s; run again when it is done, or raise the setting lock_timeout (MMSEARCH_LOCK_TIMEOUT)"
    )


def _waiting(where: str, holder: Holder, timeout: float) -> str:
    return f"Waiting for {holder.describe()}, which is writing to the index at {where} (giving up after {timeout:g} s)..."


# -- SQLite: a file lock ------------------------------------------------------------------------


@contextmanager
def _file_lock(path: Path, where: str, timeout: float, notify: Notify | None, purpose: str) -> Iterator[None]:
    lock = FileLock(path, thread_local=False)
    note = path.with_name(path.name + ".json")
    try:
        lock.acquire(blocking=False)
    except Timeout:
        if notify is not None:
            notify(_waiting(where, _read_note(note), timeout))
        try:
            lock.acquire(timeout=max(timeout, 0.0), poll_interval=POLL_S)
        except Timeout:
            raise _timed_out(where, _read_note(note), timeout, purpose) from None
    except OSError as exc:  # the lock file cannot be made: a read-only disk or folder; nothing can be written
        raise ReadOnlyIndexError(f"cannot {purpose} the index at {where}: its folder is read-only ({exc.strerror or exc}); "
                                 "searching works, changing it needs write access") from None
    try:
        try:
            note.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": _now().isoformat()}))
        except OSError:  # the note only tells a waiting writer who holds the lock: a full disk must not stop the run here
            note.unlink(missing_ok=True)
        yield
    finally:
        note.unlink(missing_ok=True)
        lock.release()


def _read_note(note: Path) -> Holder:
    try:
        data = json.loads(note.read_text())
        return Holder(int(data["pid"]), str(data["host"]), datetime.fromisoformat(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return Holder(None, None, None)  # the holder is between taking the lock and writing its note


# -- PostgreSQL: an advisory lock ---------------------------------------------------------------


@contextmanager
def _pg_lock(db: Engine, where: str, timeout: float, notify: Notify | None, purpose: str) -> Iterator[None]:
    # A connection of its own, outside the pool: closing it is what releases the lock, even if
    # the unlock below never runs.
    name = f"mmsearch writer pid {os.getpid()} on {socket.gethostname()}"[:63]
    url = make_url(db.url.render_as_string(hide_password=False))
    locker = create_engine(url, poolclass=NullPool, connect_args={"application_name": name})
    try:
        with locker.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            deadline = time.monotonic() + max(timeout, 0.0)
            told = False
            while not conn.scalar(text("SELECT pg_try_advisory_lock(:a, :b)"), {"a": PG_KEY[0], "b": PG_KEY[1]}):
                if time.monotonic() >= deadline:
                    raise _timed_out(where, _pg_holder(conn), timeout, purpose)
                if not told and notify is not None:
                    notify(_waiting(where, _pg_holder(conn), timeout))
                    told = True
                time.sleep(POLL_S)
            # A holder whose lock connection just dropped may be between its check and its
            # commit: wait for that commit, so that what this writer reads next includes it.
            commit_key = {"a": PG_COMMIT_KEY[0], "b": PG_COMMIT_KEY[1]}
            conn.execute(text("SELECT pg_advisory_lock(:a, :b)"), commit_key)
            conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), commit_key)
            guard = _CommitGuard(int(conn.scalar(text("SELECT pg_backend_pid()"))), where)
            event.listen(db, "commit", guard)
            try:
                yield
            finally:
                event.remove(db, "commit", guard)
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), {"a": PG_KEY[0], "b": PG_KEY[1]})
                except DBAPIError:
                    # The connection is gone, and with it the lock (the server frees a session's
                    # locks when it ends): nothing is left to release, and every commit before
                    # this point was checked to hold the lock, so the run's work stands.
                    pass
    finally:
        locker.dispose()


class _CommitGuard:
    """A ``commit`` event of the writer's database engine: refuses to commit once the writer lock
    (held by the backend ``lock_pid``) is gone, so a lost lock never lets two writers interleave."""

    def __init__(self, lock_pid: int, where: str) -> None:
        self.lock_pid = lock_pid
        self.where = where

    def __call__(self, conn: Connection) -> None:
        # The DBAPI cursor, not conn.execute: SQLAlchemy is in the middle of committing this
        # connection and must not start or end a transaction of its own here.
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", PG_COMMIT_KEY)
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = %s "
                "AND classid = %s AND objid = %s AND objsubid = 2 "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
                (self.lock_pid, *PG_KEY),
            )
            row = cursor.fetchone()
        finally:
            cursor.close()
        if not (row and row[0]):
            raise WriterLockLostError(
                f"stopped writing to the index at {self.where}: the writer lock was lost because its connection to the "
                "PostgreSQL server closed (a server restart, idle_session_timeout, a dropped network connection or "
                "pg_terminate_backend); what was committed before is kept, the batch in progress was not written; "
                "run the command again to finish"
            )


def _pg_holder(conn: Connection) -> Holder:
    row = conn.execute(
        text(
            "SELECT a.application_name, a.client_hostname, host(a.client_addr), a.backend_start AT TIME ZONE 'UTC' "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :a AND l.objid = :b AND l.objsubid = 2 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"a": PG_KEY[0], "b": PG_KEY[1]},
    ).first()
    if row is None:
        return Holder(None, None, None)
    app, client_host, client_addr, since = row
    pid, host = None, client_host or client_addr
    if app and app.startswith("mmsearch writer pid "):
        head, _, on = app.removeprefix("mmsearch writer pid ").partition(" on ")
        pid, host = (int(head) if head.isdigit() else None), (on or host)
    return Holder(pid, host, since.replace(microsecond=0) if since else None)
