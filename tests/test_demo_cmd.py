"""`mmsearch demo` prints every query it runs, weak matches included and marked."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("skimage")


def test_demo_prints_every_query_with_its_weak_matches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mmsearch import demo
    from mmsearch.cli import cli

    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")  # HashEmbedder: fast, meaningless scores
    monkeypatch.delenv("MMSEARCH_SEARCH_MIN_SCORE", raising=False)
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "idx"), "--embedder", "hash", "demo", "--folder", str(tmp_path / "lib"), "-k", "2"])
    assert result.exit_code == 0, result.output
    # each search is printed as the command that repeats it: mmsearch --index <demo index> search 'query'
    blocks = result.stdout.split("\n\nmmsearch --index ")[1:]
    assert [b.splitlines()[0].split(" search ", 1)[1].strip("'\"") for b in blocks] == list(demo.QUERIES)
    for block in blocks:
        lines = block.splitlines()[1:]
        ranked = [line for line in lines if line.startswith(("  1. ", "  2. "))]
        assert len(ranked) == 2, block  # weak matches are printed, not hidden
        for line in ranked:
            below = float(line.split()[1]) < 0.5
            assert below == line.endswith("(below the 0.5 cut: not shown by search)"), line
        assert ("no good match" in block) == all(float(line.split()[1]) < 0.5 for line in ranked)
