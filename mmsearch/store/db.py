"""Database engine creation and the schema check made on every open."""

from __future__ import annotations

import os
import sqlite3
from functools import partial
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError, ProgrammingError

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


def is_in_memory(url: str) -> bool:
    """True for a SQLite database that lives only in this process (``sqlite://``, ``:memory:``,
    ``file::memory:`` or ``mode=memory``): whatever is indexed into it is gone at exit."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    return (database in ("", ":memory:") or database.startswith("file::memory:")
            or "mode=memory" in database or parsed.query.get("mode") == "memory")


def refuse_in_memory(url: str) -> None:
    """An in-memory index reported "Indexed 2 files", kept nothing, and rewrote the vector cache
    files of the real index in the same folder with its own vectors: refuse it at the door."""
    if is_in_memory(url):
        raise ConfigError(f"--db {url!r} is an in-memory database: nothing indexed into it would be kept, and the index "
                          "folder's vector caches would be overwritten; give a file (sqlite:///PATH/index.db), a "
                          "PostgreSQL URL, or leave --db out to use the index folder's own database")


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


def create_db_engine(url: str, read_only: bool = False, index_dir: Path | None = None) -> Engine:
    """An engine for ``url``. ``read_only`` opens a SQLite file so that nothing is ever written
    beside it (no journal, no shared-memory file), as a read-only directory demands. ``index_dir``
    is the index folder the database belongs to: a damaged-file message may advise deleting that
    folder only when the file is the folder's own database."""
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
        try:
            engine = create_engine(parsed, pool_pre_ping=True)
        except (NoSuchModuleError, ImportError) as exc:
            # mysql:// without MySQLdb, or a dialect SQLAlchemy does not know: a traceback said only
            # "No module named 'MySQLdb'", not which option asked for it.
            raise ConfigError(f"--db {_shown(parsed)}: no installed database driver handles {parsed.drivername!r} "
                              f"({exc}); install it, or use sqlite:///PATH or postgresql+psycopg://host/db") from exc
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_read_pragmas if read_only else partial(_sqlite_pragmas, index_dir))
        event.listen(engine, "connect", _sqlite_functions)
    else:
        _check_reachable(engine)
    event.listen(engine, "handle_error", partial(_storage_errors, index_dir))
    return engine


def _shown(url: object) -> str:
    """A URL as an error may print it: never with its password."""
    render = getattr(url, "render_as_string", None)
    return render(hide_password=True) if render is not None else str(url)


def _check_reachable(engine: Engine) -> None:
    """Connect once now, so that a server that is down, a wrong port, user or database name is one
    line naming the URL, instead of a SQLAlchemy traceback from whichever statement came first.
    The connection goes back to the pool and serves the first real statement."""
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        engine.dispose()
        reason = " ".join(str(exc.orig).split()) if exc.orig is not None else str(exc).splitlines()[0]
        raise ConfigError(f"cannot connect to the database --db {_shown(engine.url)} ({reason}); check that the server is "
                          "running and that the URL's host, port, user and database name are right") from exc


def _sqlite_functions(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # SQLite's lower() folds ASCII only: "CAFÉ" stayed "cafÉ" and never met "café".
    dbapi_conn.create_function("casefold", 1, lambda s: s.casefold() if isinstance(s, str) else s, deterministic=True)


def _sqlite_pragmas(index_dir: Path | None, dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
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
        raise _sqlite_storage_error(exc, _database_of(dbapi_conn), index_dir) or exc
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


def _is_own_database(where: str, index_dir: Path | None) -> bool:
    """Whether ``where`` is the database an index folder keeps inside itself (no --db)."""
    if index_dir is None:
        return False
    try:
        return Path(where).resolve() == (index_dir / DB_FILE).resolve()
    except (OSError, RuntimeError):
        return False


def _sqlite_storage_error(exc: sqlite3.Error, where: str, index_dir: Path | None = None) -> Exception | None:
    """The one-line error for a storage failure SQLite reports, or None for other errors."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or name.startswith("SQLITE_CORRUPT_"):
        check = f"(`sqlite3 {where} 'PRAGMA quick_check'` shows the damage)"
        if _is_own_database(where, index_dir):
            return StorageError(f"the index database {where} is damaged ({exc}); restore it from a backup, or delete the index "
                                f"directory {index_dir} and index your library again {check}")
        # A --db file elsewhere: its folder is not the index's (--db sqlite:////tmp/notes.txt advised
        # deleting /tmp). Name only the file, and the likelier mistake of a wrong --db.
        return StorageError(f"the index database {where} is damaged or not a database ({exc}); check that --db (or MMSEARCH_DB, "
                            f"or db in mmsearch.toml) names the index's database file; if it does, restore it from a backup, "
                            f"or delete that one file and index your library again {check}")
    if name == "SQLITE_FULL":
        return StorageError(f"cannot write the index database {where}: {exc}; free space on that disk and run again (what was written before is kept)")
    if name.startswith("SQLITE_READONLY"):
        return ReadOnlyIndexError(f"the index database {where} is read-only ({exc}); searching works, indexing needs write access to it and its directory")
    if name.startswith("SQLITE_IOERR"):
        return StorageError(f"disk I/O error on the index database {where} ({exc}); check that disk (is it full or gone?) and run again")
    return None


def _storage_errors(index_dir: Path | None, context: ExceptionContext) -> None:
    """Turn a damaged file, a full disk or a read-only database into one clear line."""
    exc = context.original_exception
    engine = context.engine
    where = str(engine.url.database) if engine is not None and engine.url.database else "the index database"
    if isinstance(exc, sqlite3.Error):
        error = _sqlite_storage_error(exc, where, index_dir)
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


def compact(engine: Engine, index_dir: Path | None = None) -> tuple[int, int, int, int]:
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
            damaged = _sqlite_storage_error(exc, str(path), index_dir)
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
