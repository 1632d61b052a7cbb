"""Moves a test database to a schema revision, as `mmsearch db upgrade` would, or back."""

from __future__ import annotations

from alembic import command

from mmsearch.store import db as store_db


def migrate(url: str, revision: str, down: bool = False) -> None:
    engine = store_db.create_db_engine(url)
    cfg = store_db.alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)
    engine.dispose()
