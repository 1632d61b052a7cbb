"""Schema migrations: created on a new index, refused when old, upgraded by `mmsearch db upgrade`,
on SQLite and PostgreSQL; and the migration scripts ship inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import mmsearch
from mmsearch.cli import cli
from mmsearch.store import db as store_db
from mmsearch.testing import fake_plugin

ROOT = Path(__file__).resolve().parents[1]


def _url(db_url: str | None, index: Path) -> str:
    return db_url or store_db.default_url(index)


def test_new_index_gets_the_newest_schema(tmp_path: Path, db_url: str | None) -> None:
    index = tmp_path / "index"
    with mmsearch.Engine.open(index, db=db_url, embedders=["hash"], plugins=[fake_plugin()]):
        pass
    engine = store_db.create_db_engine(_url(db_url, index))
    assert store_db.current_revision(engine) == store_db.head_revision()
    assert {"media", "segments", "spaces", "vectors", "roots"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_older_schema_is_refused_then_upgraded(tmp_path: Path, db_url: str | None) -> None:
    index = tmp_path / "index"
    index.mkdir()
    url = _url(db_url, index)
    engine = store_db.create_db_engine(url)
    cfg = store_db.alembic_config(engine)
    from alembic import command

    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()
    with pytest.raises(mmsearch.SchemaError, match="mmsearch db upgrade"):
        mmsearch.Engine.open(index, db=db_url, embedders=["hash"], plugins=[fake_plugin()])

    args = ["--index", str(index)] + (["--db", db_url] if db_url else []) + ["db", "upgrade"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Upgraded the index database from schema 0001 to {store_db.head_revision()}.\n"
    with mmsearch.Engine.open(index, db=db_url, embedders=["hash"], plugins=[fake_plugin()]) as engine:
        assert engine.status().segments == 0
    again = CliRunner().invoke(cli, args)
    assert again.stdout == f"Already at schema {store_db.head_revision()}; nothing to do.\n"


def test_upgrade_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    (index / "space-1-image.faiss").write_bytes(b"left from an index whose database was deleted")
    result = CliRunner().invoke(cli, ["--index", str(index), "db", "upgrade"])
    assert result.exit_code == 1 and f"no index database at {index / 'index.db'}; nothing to upgrade" in result.stderr
    assert not (index / "index.db").exists()


def test_newer_schema_is_refused_with_advice_to_upgrade_mmsearch(tmp_path: Path) -> None:
    index = tmp_path / "index"
    with mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()]):
        pass
    engine = store_db.create_db_engine(store_db.default_url(index))
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(mmsearch.SchemaError, match="newer mmsearch"):
        mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()])
    result = CliRunner().invoke(cli, ["--index", str(index), "db", "upgrade"])  # was alembic's "Can't locate revision" traceback
    assert result.exit_code == 1 and "newer mmsearch (schema 9999" in result.stderr and "Traceback" not in result.output


def test_foreign_database_is_not_taken_over(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    engine = sa.create_engine(store_db.default_url(index))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE invoices (id INTEGER)")
    engine.dispose()
    with pytest.raises(mmsearch.SchemaError, match="not an mmsearch index"):
        mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()])


def test_sqlite_index_uses_wal(tmp_path: Path) -> None:
    with mmsearch.Engine.open(tmp_path / "index", embedders=["hash"], plugins=[fake_plugin()]) as engine:
        with engine.db.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_wheel_ships_migrations_and_builtin_plugins(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("mmsearch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    scripts = {p.name for p in (ROOT / "alembic" / "versions").glob("*.py")}
    assert scripts and {f"mmsearch/migrations/versions/{s}" for s in scripts} <= names
    assert {"mmsearch/migrations/env.py", "mmsearch/migrations/script.py.mako"} <= names
    assert {"mmsearch_image/__init__.py", "mmsearch_text/__init__.py", "mmsearch_lite/projection.npz"} <= names
    assert "mmsearch/search/words.tsv.gz" in names  # language.py reads it on every text query
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[mmsearch]" in text and "image = mmsearch_image" in text


def test_the_schema_head_constant_is_the_newest_migration() -> None:
    head, known = store_db.script_revisions()
    assert store_db.head_revision() == head and head in known, (store_db.SCHEMA_HEAD, head)


def test_opening_and_searching_an_index_does_not_import_alembic(tmp_path: Path) -> None:
    """Alembic is needed to create or migrate a schema, not to use one: importing it cost 0.1 s of
    every cold search."""
    index = tmp_path / "index"
    with mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()]) as engine:
        (tmp_path / "lib").mkdir()
        (tmp_path / "lib" / "a.txt").write_text("alpha beta\n")
        engine.index([tmp_path / "lib"])
    code = (
        "import sys, mmsearch; from mmsearch.testing import fake_plugin\n"
        f"with mmsearch.Engine.open({str(index)!r}, plugins=[fake_plugin()]) as e: assert e.search('alpha', min_score=0)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout
