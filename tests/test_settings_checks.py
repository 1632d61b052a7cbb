"""What mmsearch.toml may hold, checked when an index opens: one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mmsearch.cli import cli


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")  # HashEmbedder, no model download
    monkeypatch.delenv("MMSEARCH_INDEX", raising=False)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), "--embedder", "hash", *args])

    return invoke


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_a_deeply_nested_settings_file_is_a_settings_error_naming_it(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """tomllib recurses per nested array: every command crashed with RecursionError."""
    (tmp_path / "lib").mkdir()
    assert run("index", str(tmp_path / "lib")).exit_code == 0
    toml = tmp_path / "index" / "mmsearch.toml"
    toml.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    for command in (["status"], ["search", "--no-server", "x"], ["index", str(tmp_path / "lib")]):
        line = _one_line_error(run(*command))
        assert line.startswith(f"Error: {toml}: not valid TOML") and "fix or delete the file" in line, line
