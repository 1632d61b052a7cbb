"""The command line as a user types it: exact output, one-line errors, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mmsearch.cli import cli


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_match_cut_off: None):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")  # HashEmbedder, no model download
    monkeypatch.delenv("MMSEARCH_INDEX", raising=False)
    index = tmp_path / "index"

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--index", str(index), "--embedder", "hash", *args])

    return invoke


def _no_time(text: str) -> str:
    return re.sub(r"in \d+\.\d s", "in T s", text)


def test_index_prints_summary_and_failures(run, library: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("index", str(library))
    assert result.exit_code == 0
    assert _no_time(result.stdout) == (
        "Indexed 7 files in T s: 5 added, 0 updated, 0 unchanged, 0 renamed, 0 removed, 2 failed, 0 skipped (5 new segments)\n"
        "  failed: docs/unreadable.txt: not a text file (it contains NUL bytes); remove it or give it its real extension\n"
        "  failed: photos/corrupt.jpg: not a readable image (Truncated File Read)\n"
    )
    assert result.stderr == ""  # the embedder was named, so no note on how it was chosen


def test_index_json_and_reindex_after_delete(run, library: Path) -> None:  # type: ignore[no-untyped-def]
    run("index", str(library))
    (library / "docs" / "volcano.md").unlink()
    result = run("index", str(library), "--json")
    data = json.loads(result.stdout)
    assert {k: data[k] for k in ("added", "updated", "unchanged", "removed", "failed")} == {
        "added": 0, "updated": 0, "unchanged": 6, "removed": 1, "failed": 0}


def test_search_prints_ranked_paths(run, library: Path) -> None:  # type: ignore[no-untyped-def]
    run("index", str(library))
    result = run("search", "kitten whiskers", "-k", "2")
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(rf"  1\. \d\.\d{{3}}  {re.escape(str(library / 'photos' / 'cat.png'))}", lines[0])
    assert lines[1].startswith("  2. ")


def test_search_json_is_ranked_with_evidence(run, library: Path) -> None:  # type: ignore[no-untyped-def]
    run("index", str(library))
    hits = json.loads(run("search", "volcano erupts lava", "--json").stdout)
    assert hits[0]["path"] == "docs/volcano.md" and hits[0]["modality"] == "text"
    assert hits[0]["evidence"][0]["locator"] == {"char_start": 0, "char_end": len("# Volcanoes\n\nA volcano erupts lava, ash and gas.")}
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_search_filters_and_image_query(run, library: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from conftest import tagged_png

    run("index", str(library))
    only_images = json.loads(run("search", "volcano", "--type", "image", "--json").stdout)
    assert {h["modality"] for h in only_images} == {"image"} and len(only_images) == 3
    query = tagged_png(tmp_path / "q.png", "beach sand sea")
    assert json.loads(run("search", "--image", str(query), "--json").stdout)[0]["path"] == "photos/beach.png"


def test_search_explain_shows_legs_and_evidence(run, library: Path) -> None:  # type: ignore[no-untyped-def]
    run("index", str(library))
    out = run("search", "how to cook pasta", "-k", "1", "--explain").stdout.splitlines()
    assert out[0].endswith("docs/pasta.txt")
    assert out[1].startswith('      leg "how to cook pasta"@hash: ')
    assert out[2].startswith('      leg "how to cook pasta"@keyword: ')  # the full-text leg (query layer)
    assert out[3].startswith('      evidence text chars 0–62 via "how to cook pasta"@hash/text: score=')
    assert "raw=" in out[3]
    assert out[4].startswith('      evidence text chars 0–62 via "how to cook pasta"@keyword/text: score=')


def test_status_lists_counts_failures_and_spaces(run, library: Path) -> None:  # type: ignore[no-untyped-def]
    run("index", str(library))
    lines = run("status").stdout.splitlines()
    assert lines[2] == f"Libraries: {library}"
    assert lines[3] == "Media: 5 indexed (image 3, text 2), 2 failed; 5 segments"
    assert re.fullmatch(r"Space: hash:hash-64 \(64-d; image,text\): 5 vectors, 1\.2 KB", lines[4])
    assert lines[5:] == [
        "Failures:",
        f"  {library / 'docs' / 'unreadable.txt'}: not a text file (it contains NUL bytes); remove it or give it its real extension",
        f"  {library / 'photos' / 'corrupt.jpg'}: not a readable image (Truncated File Read)",
    ]
    data = json.loads(run("status", "--json").stdout)
    assert data["media"] == {"image": 3, "text": 2} and len(data["failures"]) == 2


def test_errors_are_one_line_without_traceback(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("index", str(tmp_path / "missing"))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'missing'}: no such file or folder; check the path and try again\n"
    result = run("search")
    assert result.exit_code == 1 and result.stderr.startswith("Error: nothing to search for")
    (tmp_path / "empty").mkdir()
    run("index", str(tmp_path / "empty"))
    result = run("search", "x", "--type", "hologram")
    assert result.exit_code == 1 and result.stderr.startswith("Error: unknown --type hologram; installed modalities:")


def test_debug_shows_the_traceback(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "i"), "--embedder", "hash", "--debug", "index", str(tmp_path / "missing")])
    assert result.exit_code == 1 and result.exception is not None and "no such file" in str(result.exception)


def test_no_matches_message(run, library: Path) -> None:  # type: ignore[no-untyped-def]
    run("index", str(library))
    result = run("search", "cat", "--path", "nowhere/*")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == "No matches.\n"


def test_models_lists_the_test_embedder(run) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(run("models", "--json").stdout)
    hash_row = next(r for r in rows if r["name"] == "hash")
    assert hash_row == {"name": "hash", "plugin": "mmsearch.testing.plugin", "space": "hash:hash-64", "dim": 64,
                        "kinds": ["image", "text"], "available": True, "weights": "none: word hashing, no trained weights", "detail": ""}
