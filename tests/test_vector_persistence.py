"""The vector cache saves a small change as a log record, not a rewrite of the base files; a torn
log tail is detected and caught up from SQL; a long log is folded back into the base."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import text_library

import mmsearch
from mmsearch.store.models import Vector
from mmsearch.testing import fake_plugin
from mmsearch.vectors import cache as cache_module


def _open(index: Path) -> mmsearch.Engine:
    return mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()], settings={"search.min_score": 0})


def _state(engine: mmsearch.Engine) -> tuple[list[int], list[int]]:
    indexes = engine.spaces[0].indexes
    held = sorted(int(i) for index in indexes.by_kind.values() for i in index.ids())
    with engine.db.connect() as conn:
        return held, sorted(conn.scalars(select(Vector.segment_id)))


def _bases(index: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(index.glob("space-*.faiss"))}


def test_a_small_addition_appends_to_the_log_and_leaves_the_base_alone(tmp_path: Path) -> None:
    index = tmp_path / "index"
    with _open(index) as engine:
        engine.index([text_library(tmp_path, "alpha", 40)])
    base = _bases(index)
    assert base and not list(index.glob("*.delta"))
    with _open(index) as engine:
        engine.index([text_library(tmp_path, "bravo", 3)])
    assert _bases(index) == base, "three new files must not rewrite the base index files"
    assert next(index.glob("*.delta")).stat().st_size > 0
    with _open(index) as engine:  # base + log replayed: exactly SQL's vectors, no rebuild
        held, sql = _state(engine)
        assert held == sql and len(sql) == 43
        assert engine.search("bravo document 1", k=1)[0].path == "bravo-001.txt"


def test_a_torn_log_tail_is_dropped_and_caught_up_from_sql(tmp_path: Path) -> None:
    index = tmp_path / "index"
    with _open(index) as engine:
        engine.index([text_library(tmp_path, "alpha", 20)])
    with _open(index) as engine:
        engine.index([text_library(tmp_path, "bravo", 3)])
    log = next(index.glob("*.delta"))
    log.write_bytes(log.read_bytes()[:-10])  # a crash in the middle of the append
    with _open(index) as engine:
        held, sql = _state(engine)
        assert held == sql and len(sql) == 23
        assert engine.search("bravo document 2", k=1)[0].path == "bravo-002.txt"


def test_a_log_past_its_share_of_the_base_is_folded_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "COMPACT_MIN_BYTES", 0)
    index = tmp_path / "index"
    with _open(index) as engine:
        engine.index([text_library(tmp_path, "alpha", 8)])
    base = _bases(index)
    with _open(index) as engine:
        engine.index([text_library(tmp_path, "bravo", 8)])  # as large as the base: past a quarter of it
    assert _bases(index) != base and not list(index.glob("*.delta")), "the log was folded into the base"
    with _open(index) as engine:
        held, sql = _state(engine)
        assert held == sql and len(sql) == 16


def test_read_only_use_writes_nothing(tmp_path: Path) -> None:
    index = tmp_path / "index"
    with _open(index) as engine:
        engine.index([text_library(tmp_path, "alpha", 10)])
    with _open(index) as engine:
        engine.index([text_library(tmp_path, "bravo", 2)])
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in index.iterdir() if p.is_file() and "space-" in p.name}
    with _open(index) as engine:
        engine.search("alpha document 3", k=5)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in index.iterdir() if p.is_file() and "space-" in p.name} == before


def test_status_reports_the_backend_and_the_measured_recall(tmp_path: Path) -> None:
    index = tmp_path / "index"
    settings = {"search.min_score": 0, "vectors.backend": "ivf"}
    with mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()], settings=settings) as engine:
        engine.index([text_library(tmp_path, "alpha", 60)])
        text = engine.status().spaces[0]["indexes"]["text"]
        assert text["backend"] == "ivf" and text["vectors"] == 60 and 0.0 <= text["recall_at_10"] <= 1.0
        assert engine.search("alpha document 7", k=1)[0].path == "alpha-007.txt"
    with mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()], settings=settings) as engine:
        assert engine.status().spaces[0]["indexes"]["text"]["backend"] == "ivf", "reopened from its own cache"


def test_an_unknown_backend_setting_stops_the_open_with_one_line(tmp_path: Path) -> None:
    from mmsearch.errors import ConfigError

    with pytest.raises(ConfigError, match=r"vectors.backend.*MMSEARCH_VECTORS_BACKEND.*got 'annoy'"):
        mmsearch.Engine.open(tmp_path / "index", embedders=["hash"], plugins=[fake_plugin()], settings={"vectors.backend": "annoy"})


def test_the_status_command_shows_an_approximate_backend_and_its_recall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from mmsearch.cli import cli

    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")  # HashEmbedder, no model download
    monkeypatch.setenv("MMSEARCH_VECTORS_BACKEND", "ivf")
    index = tmp_path / "index"
    lib = text_library(tmp_path, "alpha", 40)
    for args in (["index", str(lib)], ["status"]):
        result = CliRunner().invoke(cli, ["--index", str(index), "--embedder", "hash", *args])
        assert result.exit_code == 0, result.output
    assert "text: ivf backend, 40 vectors, recall@10" in result.output, result.output
