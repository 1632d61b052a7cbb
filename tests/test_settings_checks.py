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


@pytest.mark.parametrize("toml, words", [
    ("[search]\nmin_scor = 0.0\n", "unknown setting 'search.min_scor' in [search]; it takes: min_score"),
    ("[serach]\nmin_score = 0.0\n", "unknown section [serach] (key 'serach.min_score'); did you mean [search]?"),
    ("bogus = 1\n", "unknown setting 'bogus' at the top level; it takes: batch_size, db,"),
    ("[text]\nchunk_char = 500\n", "unknown setting 'text.chunk_char' in [text]; it takes: chunk_chars, chunk_overlap"),
])
def test_a_typo_in_a_built_in_section_stops_the_open_naming_file_key_and_known_keys(run, tmp_path: Path, toml: str, words: str) -> None:  # type: ignore[no-untyped-def]
    """The README: a typo "stops the index from opening with the known keys listed instead of being ignored"."""
    (tmp_path / "lib").mkdir()
    assert run("index", str(tmp_path / "lib")).exit_code == 0
    settings = tmp_path / "index" / "mmsearch.toml"
    settings.write_text(toml)
    for command in (["status"], ["search", "--no-server", "x"]):
        line = _one_line_error(run(*command))
        assert line.startswith(f"Error: {settings}: ") and words in line, line


@pytest.mark.parametrize("toml, words", [
    ("[text]\nchunk_chars = 0\n", "'text.chunk_chars' (in {file}) must be a whole number of at least 1, got 0"),
    ('follow_symlinks = "sometimes"\n', "'follow_symlinks' (in {file}) must be one of 'inside', 'all', 'none', got 'sometimes'"),
    ('workers = "two"\n', "'workers' (in {file}) must be a whole number, got 'two'"),
    ("lock_timeout = nan\n", "'lock_timeout' (in {file}) must be between 0 and inf, got nan"),
    ('[ocr]\nmode = "maybe"\n', "'ocr.mode' (in {file}) must be one of 'auto', 'always', 'never', got 'maybe'"),
    ("max_image_pixels = -1\n", "'max_image_pixels' (in {file}) must be a whole number of at least 1, got -1"),
    ("[search]\nmin_score = 2\n", "'search.min_score' (in {file}) must be a number from 0 to 1, got 2"),
])
def test_a_bad_built_in_value_stops_the_open_not_every_file_of_the_next_run(run, tmp_path: Path, toml: str, words: str) -> None:  # type: ignore[no-untyped-def]
    """`chunk_chars = 0` was taken by status and search and then failed every text file at index time."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "k.txt").write_text("kites and more kites\n")
    assert run("index", str(tmp_path / "lib")).exit_code == 0
    settings = tmp_path / "index" / "mmsearch.toml"
    settings.write_text(toml)
    for command in (["status"], ["search", "--no-server", "kites"], ["index", str(tmp_path / "lib")]):
        line = _one_line_error(run(*command))
        assert words.format(file=settings) in line, line


def test_engine_open_refuses_unknown_keys_and_bad_values_given_to_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mmsearch
    from mmsearch.testing import fake_plugin

    monkeypatch.delenv("MMSEARCH_INDEX", raising=False)
    with pytest.raises(mmsearch.ConfigError, match=r"Engine.open\(\) or flags: unknown setting 'bogus' at the top level"):
        mmsearch.Engine.open(tmp_path / "i", embedders=["hash"], plugins=[fake_plugin()], settings={"bogus": 1})
    with pytest.raises(mmsearch.ConfigError, match=r"setting 'workers' \(given with --set, a flag or Engine.open\(settings=\); env MMSEARCH_WORKERS\) must be a whole number"):
        mmsearch.Engine.open(tmp_path / "i", embedders=["hash"], plugins=[fake_plugin()], settings={"workers": "x"})


def test_sections_a_plugin_owns_and_size_limits_of_any_modality_still_open(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Only built-in sections are checked here: a plugin's own table ([bow], declared or not) and
    <modality>.max_bytes keep working."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "k.txt").write_text("kites\n")
    assert run("index", str(tmp_path / "lib")).exit_code == 0
    (tmp_path / "index" / "mmsearch.toml").write_text("[bow]\ndim = 3\n[office]\nmax_bytes = 100\n[text]\nchunk_overlap = 5000\n")
    result = run("status")
    assert result.exit_code == 0, result.output
