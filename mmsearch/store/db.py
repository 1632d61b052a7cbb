"""Database engine creation and the schema check made on every open."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError



from ..errors import ConfigError, SchemaError

DB_FILE = "index.db"


def default_url(index_dir: Path) -> str:
    return f"sqlite:///{index_dir / DB_FILE}"


def create_db_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"--db {url!r} is not a database URL ({exc}); e.g. sqlite:///index.db or postgresql+psycopg://host/db") from exc
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we install
    engine = create_engine(parsed, pool_pre_ping=True)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    # WAL: searches read while an indexing run writes. foreign_keys: cascades delete segments+vectors.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def script_location() -> Path:
    """The migration scripts: ``mmsearch/migrations`` in an installed wheel, ``alembic/`` in a checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "migrations", package.parent / "alembic"):
        if (candidate / "env.py").is_file():
            return candidate
    raise SchemaError(f"mmsearch's migration scripts are missing from {package}; reinstall mmsearch")


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location()))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns (before, after)."""
    before = current_revision(engine)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return before, head_revision()


def ensure_schema(engine: Engine, where: str) -> None:
    """Create the schema in an empty database; refuse one written by another version."""
    try:
        current = current_revision(engine)
        has_tables = bool(inspect(engine).get_table_names())
    except OperationalError as exc:
        raise ConfigError(f"cannot open the index database at {where}: {exc.orig}") from exc
    head = head_revision()
    if current == head:
        return
    if current is None and not has_tables:
        upgrade(engine)
        return
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
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
