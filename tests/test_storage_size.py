"""Disk cost per segment: a SQLite index holds a 512-d segment in little more than its vector's
own 2 KiB (issue 12: it took 4.4 kB with SQLite's default 4 KiB pages, where two vector rows never
share a page), and `mmsearch db compact` brings an index made with small pages to that layout
without changing what a search returns."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import mmsearch
from mmsearch.bench.synthetic import write_library
from mmsearch.cli import cli
from mmsearch.store import db as store_db
from mmsearch.testing import HashEmbedder, fake_plugin

DIM = 512
SEGMENTS = 3000


def _library(index: Path, embedder: HashEmbedder) -> tuple[mmsearch.Engine, int]:
    """The engine over ``SEGMENTS`` one-segment media (a photo library's shape) and the bytes the
    index held before they were written (schema and empty pages)."""
    mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin(embedder)]).close()
    _checkpoint(index)
    empty = _on_disk(index)
    engine = mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin(embedder)])
    rng = np.random.default_rng(0)
    media = [(f"photos/{i:05d}.jpg", "image", [f"photo {i} about topic {i % 17}"]) for i in range(SEGMENTS)]
    # Random unit vectors: incompressible, like real embeddings.
    vectorize = lambda texts: (lambda v: v / np.linalg.norm(v, axis=1, keepdims=True))(  # noqa: E731
        rng.standard_normal((len(texts), DIM)).astype(np.float32))
    assert write_library(engine, "/synthetic", media, vectorize) == SEGMENTS
    return engine, empty


def _on_disk(index: Path) -> int:
    db = index / store_db.DB_FILE
    wal = Path(f"{db}-wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _checkpoint(index: Path) -> None:
    conn = sqlite3.connect(index / store_db.DB_FILE)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def test_a_new_index_stores_a_segment_in_little_more_than_its_vector(tmp_path: Path) -> None:
    engine, empty = _library(tmp_path / "idx", HashEmbedder(dim=DIM))
    engine.close()
    _checkpoint(tmp_path / "idx")
    per_segment = (_on_disk(tmp_path / "idx") - empty) / SEGMENTS
    vector = DIM * 4
    # Besides the vector row: the media row (path, 64-hex content hash, times) with its indexes, the
    # segment row and the keyword index, about 0.5 kB. At SQLite's 4 KiB pages this was 4.6 kB.
    assert per_segment <= vector + 768, f"{per_segment:.0f} bytes per segment for a {vector}-byte vector"
    conn = sqlite3.connect(tmp_path / "idx" / store_db.DB_FILE)
    vectors = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name = 'vectors'").fetchone()[0]
    conn.close()
    assert vectors / SEGMENTS <= 1.1 * vector, f"the vectors table takes {vectors / SEGMENTS:.0f} bytes per {vector}-byte vector"


def test_compact_shrinks_an_index_made_with_small_pages_and_keeps_its_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = tmp_path / "old"
    embedder = HashEmbedder(dim=DIM)
    monkeypatch.setattr(store_db, "SQLITE_PAGE_SIZE", 4096)  # the layout of indexes made before
    engine, _empty = _library(index, embedder)
    before = [(h.path, round(h.score, 6)) for h in engine.search("photo 42 about topic 8", k=5, min_score=0)]
    engine.close()
    _checkpoint(index)
    size_before = _on_disk(index)
    monkeypatch.setattr(store_db, "SQLITE_PAGE_SIZE", 32768)

    result = CliRunner().invoke(cli, ["--index", str(index), "db", "compact"])
    assert result.exit_code == 0, result.output
    assert "page size 4096 -> 32768" in result.output
    assert _on_disk(index) < 0.65 * size_before, (size_before, _on_disk(index))

    with mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin(embedder)]) as reopened:
        assert [(h.path, round(h.score, 6)) for h in reopened.search("photo 42 about topic 8", k=5, min_score=0)] == before


def test_compact_of_a_damaged_index_says_so(tmp_path: Path) -> None:
    """A truncated index.db: every command said "damaged" in one line, `db compact` gave a traceback."""
    index = tmp_path / "index"
    with mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()]) as engine:
        lib = tmp_path / "lib"
        lib.mkdir()
        for i in range(200):
            (lib / f"n{i}.txt").write_text(f"note {i} " * 200)
        engine.index([lib])
    with open(index / "index.db", "r+b") as db:
        db.truncate(50_000)
    result = CliRunner().invoke(cli, ["--index", str(index), "db", "compact"])
    assert result.exit_code == 1 and "is damaged" in result.output and "Traceback" not in result.output, result.output


def test_compact_without_an_index_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "none"), "db", "compact"])
    assert result.exit_code != 0
    assert "no index database" in result.output and "Traceback" not in result.output


def test_an_index_run_leaves_no_large_wal_and_status_counts_it(tmp_path: Path) -> None:
    """Outside probe F4: after a normal run the WAL was left at 10 MB beside a 32 KB database and
    `status` reported only the 32 KB. Now the run ends with a truncated WAL, and status counts the
    database with its -wal and -shm files."""
    from conftest import text_library

    lib = text_library(tmp_path, "alpha", 40)
    index = tmp_path / "index"
    with mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()], settings={"batch_size": 1}) as engine:
        assert engine.index([lib]).added == 40
        db = index / store_db.DB_FILE
        wal = Path(f"{db}-wal")
        assert not wal.exists() or wal.stat().st_size == 0, f"the WAL is left at {wal.stat().st_size} bytes"
        parts = [db, wal, Path(f"{db}-shm")]
        assert engine.status().db_bytes == sum(p.stat().st_size for p in parts if p.exists())
        # A reader in a transaction stops the truncation: status then shows the WAL too.
        reader = sqlite3.connect(db, isolation_level=None)
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM media").fetchall()  # holds its snapshot until COMMIT
            (lib / "late.txt").write_text("a late document\n")
            engine.index([lib])
            assert wal.stat().st_size > 0
            assert engine.status().db_bytes == sum(p.stat().st_size for p in parts if p.exists()) > db.stat().st_size
        finally:
            reader.close()
