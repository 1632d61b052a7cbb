"""Migration 0005 (media.ctime_ns, spaces.uid) upgrades an index that holds data: old rows keep
working (compared by size and mtime until next indexed), every space gets an id, the vector cache
written before is rebuilt once under it; and it downgrades cleanly, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

import mmsearch
from mmsearch.store import db as store_db
from mmsearch.testing import fake_plugin
from migrate import migrate


def test_0005_keeps_data_both_ways(tmp_path: Path, db_url: str | None, no_match_cut_off: None) -> None:
    index, lib = tmp_path / "index", tmp_path / "lib"
    lib.mkdir()
    (lib / "old.txt").write_text("the quokka smiles at visitors\n")
    open_ = lambda: mmsearch.Engine.open(index, db=db_url, embedders=["hash"], plugins=[fake_plugin()])  # noqa: E731
    with open_() as engine:
        engine.index(lib)
    url = db_url or store_db.default_url(index)
    migrate(url, "0004", down=True)
    db = store_db.create_db_engine(url)
    assert "ctime_ns" not in {c["name"] for c in sa.inspect(db).get_columns("media")}
    assert "uid" not in {c["name"] for c in sa.inspect(db).get_columns("spaces")}
    db.dispose()
    migrate(url, "0005")
    db = store_db.create_db_engine(url)
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT ctime_ns FROM media")).scalars().all() == [None]
        uids = conn.execute(sa.text("SELECT uid FROM spaces")).scalars().all()
    db.dispose()
    assert len(uids) == 1 and len(uids[0]) == 32
    (lib / "new.txt").write_text("a wombat digs a burrow\n")
    with open_() as engine:
        summary = engine.index(lib)
        assert (summary.added, summary.unchanged) == (1, 1)  # the old row, without a ctime, is not re-embedded
    db = store_db.create_db_engine(url)
    with db.connect() as conn:  # ... but has its ctime recorded now, so the next edit is caught
        assert None not in conn.execute(sa.text("SELECT ctime_ns FROM media")).scalars().all()
    db.dispose()
    with open_() as engine:
        # two words each: the word-hashing fake puts "wombat" alone in the same bucket as a word of
        # old.txt, so between two files one word is a coin toss for it (a real space is tested elsewhere)
        assert [h.path for h in engine.search("quokka visitors", k=1)] == ["old.txt"]
        assert [h.path for h in engine.search("wombat burrow", k=1)] == ["new.txt"]
    migrate(url, "0004", down=True)
    migrate(url, "0005")
