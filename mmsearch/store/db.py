"""Database engine creation and the schema check made on every open."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from ..errors import ConfigError, SchemaError
from .errors import ReadOnlyIndexError, StorageError
from .lock import writer_lock

if TYPE_CHECKING:
    from alembic.config import Config

#: The newest migration in alembic/versions. Every open compares the database with it; reading it
#: from Alembic's script directory would import Alembic (0.1 s of a 2.5 s cold search) on every
#: command, so it is written here and tests/test_store.py checks it against the scripts.
SCHEMA_HEAD = "0005"

DB_FILE = "index.db"
#: Page size of new SQLite files: large enough that vector rows share pages (see _sqlite_pragmas).
SQLITE_PAGE_SIZE = 32768


def default_url(index_dir: Path) -> str:
    return f"sqlite:///{index_dir / DB_FILE}"


def file_identity(path: Path | None) -> tuple[int, int] | None:
    """(device, inode) of a database file: it changes when the file is deleted or replaced."""
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)
    return (st.st_dev, st.st_ino)


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for other databases and in-memory SQLite)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def is_read_only(index_dir: Path, url: str) -> bool:
    """True when this process cannot write the index: its directory (the vector cache, the
    lock, SQLite's journal files) or its SQLite file is not writable. ``os.access`` also
    reports a read-only mount for root."""
    if not os.access(index_dir, os.W_OK):
        return True
    path = sqlite_file(url)
    return path is not None and (
        (path.exists() and not os.access(path, os.W_OK)) or (path.parent.exists() and not os.access(path.parent, os.W_OK))
    )


def on_read_only_mount(path: Path) -> bool:
    """Whether ``path`` lies on a file system mounted read-only (no one can write it, root included)."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # gone, or no statvfs (Windows): say nothing about the mount
        return False


def create_db_engine(url: str, read_only: bool = False) -> Engine:
    """An engine for ``url``. ``read_only`` opens a SQLite file so that nothing is ever written
    beside it (no journal, no shared-memory file), as a read-only directory demands."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"--db {url!r} is not a database URL ({exc}); e.g. sqlite:///index.db or postgresql+psycopg://host/db") from exc
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we install
    path = sqlite_file(url)
    if read_only and path is not None:
        # immutable=1: no locks, no -shm/-wal files. Only safe when no WAL holds unmerged pages;
        # with one present, plain read-only mode reads it through.
        flags = "mode=ro" if Path(f"{path}-wal").exists() else "mode=ro&immutable=1"
        uri = f"{path.resolve().as_uri()}?{flags}"
        engine = create_engine(parsed, creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
    else:
        engine = create_engine(parsed, pool_pre_ping=True)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_read_pragmas if read_only else _sqlite_pragmas)
        event.listen(engine, "connect", _sqlite_functions)
    event.listen(engine, "handle_error", _storage_errors)
    return engine


def _sqlite_functions(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # SQLite's lower() folds ASCII only: "CAFÉ" stayed "cafÉ" and never met "café".
    dbapi_conn.create_function("casefold", 1, lambda s: s.casefold() if isinstance(s, str) else s, deterministic=True)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    try:
        # Takes effect only on a new, empty file (before WAL is set). With SQLite's default 4 KiB pages
        # two 2 KiB vector rows never share a page, so each 512-d vector cost 4.1 kB on disk; at
        # 32 KiB pages it costs 2.2 kB (README, "Disk per segment"; tests/test_storage_size.py).
        cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        # WAL: searches read while an indexing run writes. foreign_keys: cascades delete segments+vectors.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # SQLite's automatic checkpoint counts pages: its default 1000 is 32 MB of WAL at our
        # 32 KiB pages. 128 pages (4 MiB) keeps a long run's WAL near what SQLite intends.
        cur.execute("PRAGMA wal_autocheckpoint=128")
    except sqlite3.DatabaseError as exc:  # a damaged file fails here, before any statement of ours
        raise _sqlite_storage_error(exc, _database_of(dbapi_conn)) or exc
    finally:
        cur.close()


def _sqlite_read_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA query_only=ON")  # a write attempt fails at once, whatever the caller
    finally:
        cur.close()


def _database_of(dbapi_conn) -> str:  # type: ignore[no-untyped-def]
    try:
        row = dbapi_conn.execute("PRAGMA database_list").fetchone()
        return str(row[2]) if row and row[2] else "the index database"
    except sqlite3.Error:
        return "the index database"


def _sqlite_storage_error(exc: sqlite3.Error, where: str) -> Exception | None:
    """The one-line error for a storage failure SQLite reports, or None for other errors."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or name.startswith("SQLITE_CORRUPT_"):
        return StorageError(
            f"the index database {where} is damaged ({exc}); restore it from a backup, or delete the index directory "
            f"{Path(where).parent} and index your library again (`sqlite3 {where} 'PRAGMA quick_check'` shows the damage)"
        )
    if name == "SQLITE_FULL":
        return StorageError(f"cannot write the index database {where}: {exc}; free space on that disk and run again (what was written before is kept)")
    if name.startswith("SQLITE_READONLY"):
        return ReadOnlyIndexError(f"the index database {where} is read-only ({exc}); searching works, indexing needs write access to it and its directory")
    if name.startswith("SQLITE_IOERR"):
        return StorageError(f"disk I/O error on the index database {where} ({exc}); check that disk (is it full or gone?) and run again")
    return None


def _storage_errors(context: ExceptionContext) -> None:
    """Turn a damaged file, a full disk or a read-only database into one clear line."""
    exc = context.original_exception
    engine = context.engine
    where = str(engine.url.database) if engine is not None and engine.url.database else "the index database"
    if isinstance(exc, sqlite3.Error):
        error = _sqlite_storage_error(exc, where)
        if error is not None:
            raise error from exc
    if getattr(exc, "sqlstate", None) == "53100":  # PostgreSQL disk_full
        raise StorageError(f"the PostgreSQL server's disk is full ({str(exc).splitlines()[0]}); free space on it and run again") from exc


def script_location() -> Path:
    """The migration scripts: ``mmsearch/migrations`` in an installed wheel, ``alembic/`` in a checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "migrations", package.parent / "alembic"):
        if (candidate / "env.py").is_file():
            return candidate
    raise SchemaError(f"mmsearch's migration scripts are missing from {package}; reinstall mmsearch")


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location()))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    return SCHEMA_HEAD


def script_revisions() -> tuple[str | None, set[str]]:
    """The head and every revision of the migration scripts, as Alembic reads them."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    return scripts.get_current_head(), {rev.revision for rev in scripts.walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The revision Alembic stamped in the database (None: not stamped), read with plain SQL as
    Alembic's MigrationContext would, without importing it."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        versions = list(conn.scalars(text("SELECT version_num FROM alembic_version")))
    if len(versions) > 1:
        raise SchemaError(f"the index database has {len(versions)} schema versions stamped ({', '.join(versions)}); "
                          "it was not written by mmsearch")
    return versions[0] if versions else None


def upgrade(engine: Engine, *, lock: bool = True) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns (before, after).

    Under the index's writer lock (``lock=False``: the caller holds it), so two processes
    creating or migrating one database never both run the DDL.
    """
    if lock:
        path = sqlite_file(engine.url.render_as_string(hide_password=False))
        with writer_lock(engine, path.parent if path is not None else Path.cwd(), engine.url.render_as_string(hide_password=True), purpose="upgrade"):
            return upgrade(engine, lock=False)
    before = current_revision(engine)
    if before is not None and before not in script_revisions()[1]:  # alembic would say "Can't locate revision"
        raise SchemaError(f"the index database was written by a newer mmsearch (schema {before}; this one knows up to "
                          f"{head_revision()}); upgrade mmsearch instead")
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return before, head_revision()


def compact(engine: Engine) -> tuple[int, int, int, int]:
    """Rewrite a SQLite index file with :data:`SQLITE_PAGE_SIZE` pages and no free pages (VACUUM).

    Files made before mmsearch used large pages keep 4 KiB pages, where every vector row takes a
    page of its own; this is how they get the smaller layout. Under the writer lock: VACUUM needs
    the file to itself and up to its size again in free disk. Returns (bytes, page size) before
    and after.
    """
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is None:
        raise ConfigError("db compact rewrites SQLite index files; PostgreSQL manages its own storage (VACUUM FULL)")
    with writer_lock(engine, path.parent, str(path), purpose="compact"):
        engine.dispose()  # no pooled connection of ours may hold the file in WAL mode
        before = (path.stat().st_size + _wal_size(path), _page_size(path))
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            # A page size change needs a rollback journal for the VACUUM that applies it.
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
            conn.execute("VACUUM")
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            damaged = _sqlite_storage_error(exc, str(path))
            if damaged is not None:  # a damaged file says so, as every other command does
                raise damaged from exc
            raise StorageError(f"could not compact {path}: {exc}; close other mmsearch processes using it and check free disk space") from exc
        finally:
            conn.close()
        return before[0], before[1], path.stat().st_size + _wal_size(path), _page_size(path)


def _wal_size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def disk_bytes(path: Path) -> int | None:
    """What a SQLite database takes on disk: the file plus its -wal and -shm. The WAL alone can
    be many times the database (the probe found 10 MB beside a 32 KB file); counting only the
    main file hid that. None when the database file does not exist."""
    if not path.exists():
        return None
    return sum(part.stat().st_size for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if part.exists())


def checkpoint(engine: Engine) -> None:
    """Fold a SQLite database's WAL into the file and truncate it to 0 bytes, at the end of a
    writing run, so that an index at rest is not 4x its size. Never waits: a reader in the middle
    of a transaction makes the checkpoint give up (the WAL shrinks on a later run or close).
    Nothing to do for other databases."""
    if engine.url.get_backend_name() != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        try:
            cur.execute("PRAGMA busy_timeout=0")  # a busy reader: skip, do not hold the run's end for 30 s
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.fetchall()
        finally:
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    except sqlite3.Error:  # full disk, read-only, busy: the WAL stays valid, only larger
        pass
    finally:
        raw.close()


def _page_size(path: Path) -> int:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()


def needs_setup(engine: Engine) -> bool:
    """True unless the schema is current and the index has its spaces: only then may an open
    proceed without the writer lock (nothing left to create)."""
    try:
        if current_revision(engine) != head_revision():
            return True
        with engine.connect() as conn:
            return conn.scalar(text("SELECT 1 FROM spaces LIMIT 1")) is None
    except (OperationalError, ProgrammingError):
        return True  # let ensure_schema give the precise error


def ensure_schema(engine: Engine, where: str) -> None:
    """Create the schema in an empty database; refuse one written by another version.

    The caller holds the writer lock whenever the schema may need creating (see ``needs_setup``).
    """
    try:
        current = current_revision(engine)
        has_tables = bool(inspect(engine).get_table_names())
    except OperationalError as exc:
        raise ConfigError(f"cannot open the index database at {where}: {exc.orig}") from exc
    head = head_revision()
    if current == head:
        return
    if current is None and not has_tables:
        upgrade(engine, lock=False)
        return
    _head, known = script_revisions()
    if current in known:
        raise SchemaError(
            f"the index at {where} uses an older schema ({current}; this mmsearch needs {head}). "
            f"Back it up, then run: mmsearch db upgrade"
        )
    if current is None:
        raise SchemaError(f"{where} holds tables that are not an mmsearch index; choose another --index or --db")
    raise SchemaError(
        f"the index at {where} was written by a newer mmsearch (schema {current}); upgrade mmsearch to open it"
    )
