"""A missing vector cache is rebuilt from SQL in batches, and a terminal user sees it as a
progress bar instead of a search that hangs (issue 12, item 2)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from rich.console import Console

import mmsearch
from mmsearch.bench.synthetic import write_library
from mmsearch.cli import rebuild_bar
from mmsearch.testing import HashEmbedder, fake_plugin
from mmsearch.vectors.progress import rebuild_reporter

SEGMENTS = 25_000  # two batches of the rebuild's 20,000 rows


@pytest.fixture(scope="module")
def uncached(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("rebuild")
    embedder = HashEmbedder()
    with mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin(embedder)]) as engine:
        media = [(f"notes/{i:05d}.txt", "text", [f"note {i} on topic {i % 31}"]) for i in range(SEGMENTS)]
        write_library(engine, "/synthetic", media, lambda texts: embedder.embed("text", texts))
    return index


def _drop_cache(index: Path) -> None:
    for path in index.iterdir():
        if path.name.startswith("space-"):
            path.unlink()


def test_a_rebuild_reports_every_batch_up_to_the_total(uncached: Path) -> None:
    _drop_cache(uncached)
    seen: list[tuple[int, int, list[int]]] = []

    @contextmanager
    def record(space_id: int, total: int) -> Iterator[Callable[[int], None]]:
        counts: list[int] = []
        yield counts.append
        seen.append((space_id, total, counts))

    token = rebuild_reporter.set(record)
    try:
        with mmsearch.Engine.open(uncached, plugins=[fake_plugin(HashEmbedder())]) as engine:
            assert engine.search("note 7 on topic 7", k=3, min_score=0)
    finally:
        rebuild_reporter.reset(token)
    assert [(total, counts) for _space, total, counts in seen] == [(SEGMENTS, [20_000, SEGMENTS])]


def test_the_cli_bar_shows_on_a_terminal_and_is_gone_after(uncached: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _drop_cache(uncached)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    monkeypatch.setattr(rebuild_bar, "MIN_VECTORS", 1000)
    token = rebuild_reporter.set(None)
    try:
        rebuild_bar.install(console)
        with mmsearch.Engine.open(uncached, plugins=[fake_plugin(HashEmbedder())]) as engine:
            engine.search("note 7", k=3, min_score=0)
    finally:
        rebuild_reporter.reset(token)
    text = out.getvalue()
    assert "rebuilding the vector cache from the database" in text
    assert f"{SEGMENTS}/{SEGMENTS}" in text.replace(",", "")


def test_no_bar_when_stderr_is_not_a_terminal(uncached: Path) -> None:
    token = rebuild_reporter.set(None)
    try:
        rebuild_bar.install(Console(file=io.StringIO(), force_terminal=False))
        assert rebuild_reporter.get() is None
    finally:
        rebuild_reporter.reset(token)
