"""What the command line prints can be trusted: a hostile file name cannot forge a line, library
warnings do not leak, an empty or missing index says how to fill it, the demo's commands work."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from conftest import tagged_png
from mmsearch.cli import cli


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_match_cut_off: None):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")  # HashEmbedder, no model download
    monkeypatch.delenv("MMSEARCH_INDEX", raising=False)
    index = tmp_path / "index"

    def invoke(*args: str, index_dir: Path | None = index) -> Result:
        head = ["--index", str(index_dir)] if index_dir is not None else []
        return CliRunner().invoke(cli, [*head, "--embedder", "hash", *args])

    return invoke


def test_a_newline_in_a_file_name_cannot_forge_a_result_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lib = tmp_path / "lib"
    lib.mkdir()
    tagged_png(lib / "cat.png", "cat kitten whiskers")
    tagged_png(lib / "evil\n  2. 1.000  \x1b[31mpasswd.png", "cat kitten whiskers")
    run("index", str(lib))
    out = run("search", "kitten whiskers", "--explain").stdout
    results = [line for line in out.splitlines() if re.match(r"\s+\d+\. ", line)]
    assert len(results) == 2, out
    assert any("evil\\n  2. 1.000  \\x1b[31mpasswd.png" in line for line in results)
    assert "\x1b" not in out


def test_index_failures_and_status_escape_control_characters(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "bad\nfailed: forged.txt").write_bytes(b"\x00\x01 binary")
    out = run("index", str(lib)).stdout
    assert "  failed: bad\\nfailed: forged.txt: not a text file" in out and len(out.splitlines()) == 2
    status = run("status").stdout
    assert "bad\\nfailed: forged.txt: not a text file" in status and "\nfailed: forged" not in status


def test_json_output_carries_a_non_utf8_name_losslessly(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lib = tmp_path / "lib"
    lib.mkdir()
    name = os.fsdecode(b"caf\xe9.png")
    tagged_png(lib / name, "espresso croissant")
    assert run("index", str(lib)).exit_code == 0
    result = run("search", "espresso croissant", "--json")
    hit = json.loads(result.stdout)[0]
    # JSON cannot hold the byte 0xe9 as it is: shown escaped, and exactly in abspath_bytes (as over HTTP)
    assert hit["path"] == "caf\\xe9.png" and hit["abspath"] == f"{lib}/caf\\xe9.png"
    assert unquote_to_bytes(hit["abspath_bytes"]) == os.fsencode(lib / name)
    assert "  1. " in run("search", "espresso croissant").stdout.splitlines()[0]
    assert run("search", "espresso croissant").stdout.split()[2] == f"{lib}/caf\\xe9.png"


def test_a_search_without_an_index_says_how_to_make_one_and_creates_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("search", "a cat")
    assert result.exit_code == 1
    assert result.stderr == f"Error: there is no index at {tmp_path / 'index'} yet; index a folder first: mmsearch index PATH\n"
    assert not (tmp_path / "index").exists()


def test_a_search_on_an_empty_index_says_so_instead_of_no_matches(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "nothing").mkdir()
    assert run("index", str(tmp_path / "nothing")).exit_code == 0
    result = run("search", "a cat")
    assert result.exit_code == 1
    assert "holds no indexed files yet" in result.stderr and "mmsearch index PATH" in result.stderr
    assert "No matches" not in result.stderr


def test_an_image_over_the_pixel_limit_names_the_setting(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lib = tmp_path / "lib"
    lib.mkdir()
    Image.new("1", (20_000, 10_000)).save(lib / "huge.png")  # 200 MP, over Pillow's own 179 MP bomb limit
    Image.new("1", (12_000, 9_000)).save(lib / "big.png")  # 108 MP, over mmsearch's 100 MP default
    out = run("index", str(lib)).stdout
    assert "  failed: huge.png: image has 200 MP, over the limit of 100 MP; raise the setting max_image_pixels" in out
    assert "  failed: big.png: image is 12000x9000 (108 MP), over the limit of 100 MP; raise the setting max_image_pixels" in out


def test_the_demo_prints_commands_that_search_its_index(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("skimage")
    result = CliRunner().invoke(cli, ["--embedder", "hash", "demo", "--folder", str(tmp_path / "demo-library"), "-k", "2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("mmsearch "))
    command = shlex.split(lines[first])
    assert command[:3] == ["mmsearch", "--index", str(tmp_path / "demo-index")] and command[3] == "search"
    again = CliRunner().invoke(cli, command[1:] + ["-k", "2"])  # the line as printed, run as the user would
    assert again.exit_code == 0 and again.stdout.splitlines() == lines[first + 1:first + 3]
    assert lines[-1].startswith(f"Search the demo library yourself with: mmsearch --index {tmp_path / 'demo-index'} search ")


def test_a_snippet_is_one_line_of_words_without_escaped_breaks() -> None:
    """A PDF page's or OCR's line breaks are spacing, not content: the snippet joins them with
    single spaces (no literal "\\n"), while anything unprintable that is left stays escaped."""
    from mmsearch.cli.search_cmd import format_hit, shown
    from mmsearch.types import TEXT, Evidence, Hit, Locator

    text = "Bleeding the radiators.\nAir trapped at the top\n\n\tmakes it cold \x1b[31m"
    evidence = Evidence(7, TEXT, Locator(page=2, char_start=0, char_end=60), text, "leg", 0.8, 0.4)
    line = format_hit(1, shown(Hit(1, "manual.pdf", "/lib/manual.pdf", "pdf", 0.8, (evidence,), {"leg": 0.8})))
    assert line.endswith('p. 2 "Bleeding the radiators. Air trapped at the top makes it cold \\x1b[31m"'), line
    assert "\\n" not in line and "\x1b" not in line


SLEEPY = """
import signal, time, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal: a background job starts with SIGINT ignored
import mmsearch.cli as cli_mod
cli_mod.warm.finish = lambda: time.sleep(1.0)  # what runs after "Interrupted.", made long enough to be hit
@cli_mod.cli.command("sleepy")
def sleepy():
    print("ready", flush=True)
    time.sleep(30)
cli_mod.main(["sleepy"])
"""


@pytest.mark.parametrize("signals", [("SIGTERM",), ("SIGINT", "SIGINT")])
def test_sigterm_and_a_second_ctrl_c_stop_as_one_ctrl_c_does(signals: tuple[str, ...]) -> None:
    """The CLI probe: SIGTERM (timeout, systemd, docker stop) exited -15 silently, leaving the lock
    note; a second Ctrl-C 0.3 s after the first gave a traceback and exit -2."""
    import signal

    proc = subprocess.Popen([sys.executable, "-c", SLEEPY], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None and proc.stdout.readline().strip() == "ready"
    proc.send_signal(getattr(signal, signals[0]))
    first = proc.stderr.readline()
    for name in signals[1:]:  # while the first one is being handled
        proc.send_signal(getattr(signal, name))
    proc.wait(timeout=30)
    err = first + proc.stderr.read()  # not communicate(): it would miss what readline() buffered
    expected = 143 if signals[0] == "SIGTERM" else 130  # 128 + the signal, as `timeout` and systemd expect
    assert proc.returncode == expected and "Interrupted." in err and "Traceback" not in err, (proc.returncode, err)


SLOW_TO_STOP = """
import signal, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal
import mmsearch.cli as cli_mod
@cli_mod.cli.command("busy")
def busy():
    print("ready", flush=True)
    try:
        time.sleep(30)
    finally:
        time.sleep(4)  # the files in progress, finished or cancelled before the run can end
cli_mod.main(["busy"])
"""


@pytest.mark.parametrize(("name", "status"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_stop_signal_is_acknowledged_at_once_and_exits_128_plus_it(name: str, status: int) -> None:
    """Outside probe F8: after SIGTERM or Ctrl-C a run took 25-45 s to stop, silent all along, and
    SIGTERM exited 130 instead of the usual 143."""
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-c", SLOW_TO_STOP], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None and proc.stdout.readline().strip() == "ready"
    sent = time.monotonic()
    proc.send_signal(getattr(signal, name))
    first = proc.stderr.readline()
    said_after = time.monotonic() - sent
    proc.wait(timeout=30)
    err = proc.stderr.read()
    assert first.startswith("Stopping after the files in progress") and said_after < 3, (first, said_after)
    assert proc.returncode == status and "Interrupted." in err and "Traceback" not in err, (proc.returncode, err)


def test_an_error_with_json_asked_for_is_also_a_json_document(tmp_path: Path) -> None:
    """The CLI probe: with --json, errors were only plain text on stderr, so a script reading
    stdout got nothing to parse."""
    from mmsearch.cli import cli

    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), "search", "--json", "a cat"])
    assert result.exit_code == 1 and result.stderr.startswith("Error: there is no index")
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "MMSearchError" and "no index" in error["message"]
    plain = CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), "search", "--", "--json"])  # a query word
    assert plain.exit_code == 1 and plain.stdout == ""
