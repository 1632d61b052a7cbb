"""Migration 0004 (media title and author) upgrades an index that holds data without breaking the
keyword index 0003 built (SQLite triggers), and downgrades cleanly, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

import mmsearch
from mmsearch.store import db as store_db
from mmsearch.testing import fake_plugin
from migrate import migrate
from mmsearch.testing.documents import write_pdf


def test_0004_keeps_data_and_keyword_search_both_ways(tmp_path: Path, db_url: str | None, no_match_cut_off: None) -> None:
    index, lib = tmp_path / "index", tmp_path / "lib"
    lib.mkdir()
    (lib / "old.txt").write_text("the quokka smiles at visitors\n")
    open_ = lambda: mmsearch.Engine.open(index, db=db_url, embedders=["hash"], plugins=[fake_plugin()])  # noqa: E731
    with open_() as engine:
        engine.index([lib])
    url = db_url or store_db.default_url(index)
    migrate(url, "0003", down=True)
    columns = {c["name"] for c in sa.inspect(store_db.create_db_engine(url)).get_columns("media")}
    assert "title" not in columns and "taken_at" in columns
    migrate(url, "0004")
    assert {"title", "author"} <= {c["name"] for c in sa.inspect(store_db.create_db_engine(url)).get_columns("media")}
    migrate(url, store_db.SCHEMA_HEAD)  # what this mmsearch opens
    write_pdf(lib / "new.pdf", ["A wombat digs a burrow."], title="Marsupials", author="Kim Lee")
    with open_() as engine:
        engine.index([lib])  # rows written before and after the upgrade, the keyword index fed by 0003's triggers
        assert [h.path for h in engine.search("quokka", k=1)] == ["old.txt"]
        assert [h.path for h in engine.search("wombat title:marsupial author:lee", k=5)] == ["new.pdf"]
