"""Alembic environment: used by the engine on open and by ``mmsearch db upgrade``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from mmsearch.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # run from the alembic command line: alembic -x db=URL upgrade head
        url = context.get_x_argument(as_dictionary=True).get("db") or config.get_main_option("sqlalchemy.url")
        with create_engine(url).connect() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
