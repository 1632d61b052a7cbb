"""The command line as a user types it: exact output, one-line errors, exit codes."""

from __future__ import annotations

import json
import re
import shlex
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
    assert {k: data[k] for k in ("added", "updated", "unchanged", "removed", "failed", "still_failing")} == {
        "added": 0, "updated": 0, "unchanged": 6, "removed": 1, "failed": 0, "still_failing": 2}
    # The two broken files were not tried again: a script reading "0 failed" alone would think all is indexed.
    line = run("index", str(library)).output.strip().splitlines()[-1]
    assert line.endswith("0 failed, 0 skipped (0 new segments); 2 of the unchanged failed before and were not tried again "
                         "(--retry-failed tries them, mmsearch status lists them)"), line
    retried = json.loads(run("index", str(library), "--retry-failed", "--json").stdout)
    assert (retried["failed"], retried["still_failing"]) == (2, 0)
    assert {f["action"] for f in retried["failures"]} == {"failed"}  # told apart from deliberate skips


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


def test_status_of_a_missing_index_says_so_and_creates_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("status")  # the fixture's --index points at a folder nothing was indexed into
    assert result.exit_code == 1 and "there is no index at" in result.stderr and "mmsearch index PATH" in result.stderr
    assert not (tmp_path / "index" / "index.db").exists()


def test_remove_says_when_nothing_matched_and_counts_what_went(run, library: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("index", str(library))
    result = run("remove", str(tmp_path / "elsewhere"))
    assert result.exit_code == 0 and result.stdout.startswith(f"Removed nothing: the index holds no file at or below {tmp_path / 'elsewhere'}")
    result = run("remove", str(library / "docs"))
    assert result.stdout == "Removed 3 files from the index.\n"  # two documents and the failed binary file
    assert json.loads(run("status", "--json").stdout)["media"] == {"image": 3}


def test_an_example_that_is_not_a_file_is_named_for_what_it_is(run, library: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os

    run("index", str(library))
    os.mkfifo(tmp_path / "pipe.png")
    for target, why in ((tmp_path / "pipe.png", "not a regular file (a pipe, socket or device)"), (tmp_path / "missing.png", "no such file")):
        result = run("search", "--image", str(target))
        assert result.exit_code != 0 and f"{target}: {why}; give the file to search by example" in result.stderr, result.stderr


def test_a_byte_name_and_a_name_spelling_its_escape_are_shown_apart(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os

    lib = tmp_path / "odd"
    lib.mkdir()
    (lib / os.fsdecode(b"caf\xe9.txt")).write_text("alpha whales")  # byte 0xe9: not UTF-8
    (lib / "caf\\xe9.txt").write_text("alpha whales")  # a backslash, an x, an e and a 9
    run("index", str(lib))
    lines = run("search", "alpha whales").stdout.splitlines()
    shown = sorted(line.split("  ")[-1] for line in lines if line.strip()[:1].isdigit())
    assert shown == [f"{lib}/caf\\\\xe9.txt", f"{lib}/caf\\xe9.txt"]  # as `ls -b` shows them


def test_an_index_folder_without_its_database_says_to_give_the_database(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "space-1-text.faiss").write_bytes(b"cache of an index kept in PostgreSQL")
    result = run("status")
    assert result.exit_code == 1 and "holds vector caches but no index database" in result.stderr and "--db" in result.stderr


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


def test_an_index_path_that_cannot_be_a_folder_is_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    (tmp_path / "lib").mkdir()
    for index, reason in ((tmp_path / "notes.txt" / "sub", "Not a directory"), (Path("/dev/null"), "not a folder")):
        result = run("--index", str(index), "index", str(tmp_path / "lib"))
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert f"{index}: cannot hold an index ({reason}); give --index" in result.output


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


def test_nothing_above_the_cut_shows_the_closest_marked_not_confident(run, library: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from mmsearch.cli import search_cmd

    run("index", str(library))
    captured = run("search", "whiskers", "--min-score", "0.9999")  # a strict cut: nothing passes
    assert captured.exit_code == 0 and captured.stdout == "" and captured.stderr == "No matches.\n"  # a script reads no match
    monkeypatch.setattr(search_cmd, "interactive", lambda: True)  # a person at a terminal
    result = run("search", "whiskers", "--min-score", "0.9999")
    assert result.exit_code == 0 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "No matches."
    assert lines[1] == "Closest results, all under --min-score 0.9999, so not confident matches:"
    assert lines[2].startswith("  ~ ") and lines[2].endswith("photos/cat.png   (under the cut)") and len(lines) <= 6
    assert lines[-1].startswith("Show more with --min-score 0")
    assert json.loads(run("search", "whiskers", "--min-score", "0.9999", "--json").stdout) == []  # scripts get the cut's answer


def test_models_lists_the_test_embedder(run) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(run("models", "--json").stdout)
    hash_row = next(r for r in rows if r["name"] == "hash")
    assert hash_row == {"name": "hash", "plugin": "mmsearch.testing.plugin", "space": "hash:hash-64", "dim": 64,
                        "kinds": ["image", "text"], "available": True, "weights": "none: word hashing, no trained weights", "detail": ""}


@pytest.mark.parametrize("args, message", [
    (("-k", "99999999999999999999"), "Invalid value for '-k' / '--limit': 99999999999999999999 is not in the range 1<=x<=1000."),
    (("-k", "1001"), "is not in the range 1<=x<=1000."),
    (("--offset", "99999999999999999999"), "Invalid value for '--offset': 99999999999999999999 is not in the range 0<=x<=100000."),
    (("--offset", "9223372036854775808"), "is not in the range 0<=x<=100000."),
    (("--min-score", "nan"), "Invalid value for '--min-score': 'nan' is not a number; give a score from 0 to 1, e.g. 0.5"),
    (("--server", "notaurl"), "Invalid value for '--server': 'notaurl' is not a server URL; give it as http://HOST:PORT, e.g. http://127.0.0.1:8765"),
    (("--server", "http://host:port"), "'http://host:port' is not a URL (Port could not be cast to integer value as 'port')"),
])
def test_out_of_range_options_are_usage_errors_not_tracebacks(run, library: Path, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    run("index", str(library))
    result = run("search", *args, "giraffe")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[-1].startswith("Error: ") and message in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.output


def test_a_bad_server_url_from_the_environment_is_named_too(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MMSEARCH_SERVER", "localhost:8765")
    result = run("search", "giraffe")
    assert result.exit_code == 2 and "'localhost:8765' is not a server URL; give it as http://HOST:PORT" in result.stderr


def test_the_largest_page_and_offset_are_accepted(run, library: Path) -> None:  # type: ignore[no-untyped-def]
    run("index", str(library))
    assert len(run("search", "kitten", "-k", "1000").stdout.splitlines()) == 5
    deep = run("search", "kitten", "--offset", "100000")
    assert deep.exit_code == 0 and deep.stderr == "No matches.\n"


def test_filters_alone_narrow_a_search_by_example(run, library: Path) -> None:  # type: ignore[no-untyped-def]
    run("index", str(library))
    result = run("search", "type:image", "--image", str(library / "photos" / "rocket.png"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].endswith(str(library / "photos" / "rocket.png"))
    assert "docs/" not in result.stdout


def test_a_query_starting_with_a_dash_works_as_the_readme_says(run, library: Path) -> None:  # type: ignore[no-untyped-def]
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    line = next(line for line in readme.splitlines() if "mmsearch search -- " in line)
    command = shlex.split(re.search(r"`(mmsearch search -- [^`]+)`", line).group(1))  # type: ignore[union-attr]
    run("index", str(library))
    result = run(*command[1:])
    assert result.exit_code == 0, result.output
    assert re.match(r"  1\. \d\.\d{3}  ", result.stdout)
    quoted_only = run("search", command[-1])  # what quoting alone gives: click reads it as an option
    assert quoted_only.exit_code == 2 and "No such option" in quoted_only.stderr


def test_a_client_for_a_malformed_url_says_it_cannot_reach_it() -> None:
    from mmsearch.server.client import Client, ServerUnavailable

    with pytest.raises(ServerUnavailable, match="cannot reach the mmsearch server at notaurl"):
        Client("notaurl").health()  # a Python caller skips the CLI's check: still an MMSearchError, not urllib's ValueError


def test_ctrl_c_exits_130_saying_what_is_kept(run, library: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from mmsearch.engine import Engine

    def interrupted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(Engine, "index", interrupted)
    result = run("index", str(library))
    assert result.exit_code == 130 and "Traceback" not in result.output
    assert result.output.strip().endswith("a file cut off while being read is read again on the next run.")


def test_status_says_which_media_no_installed_plugin_reads_now(run, library: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """After uninstalling a modality plugin its files stay searchable but are no longer kept
    current, and status did not say so (a plugin author's probe)."""
    run("index", str(library))
    monkeypatch.setenv("MMSEARCH_LOAD_PLUGINS", "image")  # as if the text plugin were uninstalled
    lines = run("status").stdout.splitlines()
    assert lines[4] == ("  not read by any installed plugin now: text 2; these stay searchable but are no longer kept "
                        "current (new files of their kinds are skipped); reinstall the plugin, or `mmsearch remove` them")
    assert json.loads(run("status", "--json").stdout)["unread_modalities"] == {"text": 2}
    monkeypatch.delenv("MMSEARCH_LOAD_PLUGINS")
    assert "not read by any installed plugin" not in run("status").stdout


@pytest.mark.parametrize("url, words", [
    ("mysql://u@127.0.0.1:1/x", "no installed database driver handles 'mysql'"),
    ("postgresql://u:secret@127.0.0.1:1/x", "cannot connect to the database --db postgresql+psycopg://u:***@127.0.0.1:1/x"),
])
def test_a_database_that_cannot_be_reached_is_one_line_and_json(run, tmp_path: Path, url: str, words: str) -> None:  # type: ignore[no-untyped-def]
    """A missing driver or a PostgreSQL server that does not answer printed a SQLAlchemy traceback."""
    (tmp_path / "index").mkdir()
    for command in (["status"], ["search", "--no-server", "pasta"], ["index", str(tmp_path)]):
        result = run("--db", url, *command)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and words in lines[0], result.stderr
        assert "secret" not in result.output
    result = run("--db", url, "status", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "ConfigError" and words in error["message"]


def test_an_empty_path_argument_is_refused(run, library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """`mmsearch remove "$DIR"` with DIR unset forgot everything under the working directory."""
    assert run("index", str(library)).exit_code == 0
    monkeypatch.chdir(library)
    for command in ("remove", "index"):
        result = run(command, "")
        assert result.exit_code == 1, result.output
        assert result.stderr == (f"Error: mmsearch {command}: an empty path was given (an unset shell variable?); "
                                 "name the file or folder, or '.' for the current folder\n")
    status = json.loads(run("status", "--json").stdout)
    assert status["roots"] == [str(library)] and sum(status["media"].values()) == 5
    other = tmp_path / "other-index"
    result = CliRunner().invoke(cli, ["--index", str(other), "--embedder", "hash", "index", ""])
    assert result.exit_code == 1 and not other.exists()  # refused before an index was made for nothing


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?uri=true"])
def test_an_in_memory_database_is_refused_and_the_index_folder_left_alone(run, library: Path, tmp_path: Path, url: str) -> None:  # type: ignore[no-untyped-def]
    """`--db sqlite://` said "Indexed 2 files", kept nothing, and rewrote the real index's vector caches."""
    assert run("index", str(library)).exit_code == 0
    index = tmp_path / "index"
    before = {p.name: p.read_bytes() for p in index.iterdir() if p.is_file()}
    for command in (["index", str(library / "docs")], ["search", "--no-server", "pasta"], ["status"]):
        result = run("--db", url, *command)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(f"Error: --db {url!r} is an in-memory database: nothing indexed into it would be kept"), result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert {p.name: p.read_bytes() for p in index.iterdir() if p.is_file()} == before
