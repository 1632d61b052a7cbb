"""A third-party modality that misbehaves on one file fails that file, named, and the run goes on
(the plugin probe, /work/probes/plugin/REPORT.md F1–F9): a raising ``accepts``, ``sys.exit`` or a
ConfigError in ``extract``, an extract that yields forever or hangs, a 12 MB segment, an image
payload that is a string."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mmsearch
from conftest import OpenEngine
from mmsearch import hookimpl
from mmsearch.plugins import PluginWarning
from mmsearch.testing import fake_plugin
from mmsearch.types import IMAGE, TEXT, Segment, Source

RELEASE = threading.Event()  # lets a hung extract go at the end of its test


class Evil(mmsearch.Modality):
    """Reads ``.evil`` files and does what the file says: its first word picks the misbehaviour."""

    name = "evil"
    kinds = frozenset({TEXT, IMAGE})
    extensions = frozenset({".evil"})

    def extract(self, source: Source) -> Iterator[Segment]:
        how = source.path.read_text().split()[0]
        if how == "exit":
            sys.exit(3)
        if how == "interrupt":
            raise KeyboardInterrupt
        if how == "config":
            raise mmsearch.ConfigError("plugin thinks a setting is bad")
        if how == "boom":
            raise RuntimeError("boom in extract")
        if how == "forever":
            while True:
                yield Segment(TEXT, "again and again")
        if how == "huge":
            yield Segment(TEXT, "enormous haystack " * 200_000)
        if how == "imagestr":
            yield Segment(IMAGE, "not an image")
        if how == "hang":
            RELEASE.wait(60)
        yield Segment(TEXT, "fine evil words")


class AcceptRaises(mmsearch.Modality):
    name = "grumpy"
    kinds = frozenset({TEXT})

    def accepts(self, path: Path) -> bool:
        if path.suffix == ".acc":
            raise RuntimeError("accepts exploded")
        return False

    def extract(self, source: Source) -> Iterator[Segment]:
        yield Segment(TEXT, "never")


class EvilPlugin:
    def __init__(self, *modalities: mmsearch.Modality) -> None:
        self.modalities = modalities or (Evil(),)

    @hookimpl
    def register_modalities(self, register: Any) -> None:
        for modality in self.modalities:
            register(modality)


def _library(root: Path, **evil: str) -> Path:
    lib = root / "lib"
    lib.mkdir()
    (lib / "a.txt").write_text("apples before the evil file")
    for name, how in evil.items():
        (lib / f"{name}.evil").write_text(how)
    (lib / "z.txt").write_text("zebras after the evil file")
    return lib


def _engine(open_engine: OpenEngine, *modalities: mmsearch.Modality, **settings: Any) -> mmsearch.Engine:
    return open_engine(plugins=[fake_plugin(), EvilPlugin(*modalities)], settings={"batch_size": 1, **settings})


@pytest.mark.parametrize("how, reason", [
    ("exit", r"modality 'evil' \(plugin .*\): called sys.exit\(3\)"),
    ("interrupt", r"modality 'evil' \(plugin .*\): raised KeyboardInterrupt"),
    ("config", r"modality 'evil' \(plugin .*\): plugin thinks a setting is bad"),
    ("boom", r"modality 'evil' \(plugin .*\): RuntimeError: boom in extract"),
])
def test_what_extract_raises_fails_that_file_naming_the_modality_and_plugin(
        tmp_path: Path, open_engine: OpenEngine, how: str, reason: str) -> None:
    engine = _engine(open_engine)
    summary = engine.index([_library(tmp_path, b=how)])
    assert summary.added == 2, "the files before and after the broken one are indexed"
    (failure,) = summary.failures
    assert failure.path == "b.evil" and failure.action == "failed"
    assert failure.error is not None
    import re
    assert re.search(reason, failure.error), failure.error


def test_accepts_that_raises_disables_its_plugin_and_the_run_goes_on(tmp_path: Path, open_engine: OpenEngine) -> None:
    lib = _library(tmp_path)
    (lib / "b.acc").write_text("x")
    engine = _engine(open_engine, AcceptRaises())
    with pytest.warns(PluginWarning, match=r"modality 'grumpy': accepts\(\) raised RuntimeError: accepts exploded"):
        summary = engine.index([lib])
    assert summary.added == 2
    assert "grumpy" not in engine.registry.modalities


def test_a_file_that_yields_forever_fails_at_the_segment_cap(tmp_path: Path, open_engine: OpenEngine) -> None:
    engine = _engine(open_engine, max_segments=500)
    summary = engine.index([_library(tmp_path, b="forever")])
    assert summary.added == 2
    (failure,) = summary.failures
    assert "yielded more than 500 segments" in (failure.error or "") and "max_segments" in (failure.error or "")


def test_a_huge_segment_fails_its_file_naming_the_limit(tmp_path: Path, open_engine: OpenEngine) -> None:
    engine = _engine(open_engine)
    summary = engine.index([_library(tmp_path, b="huge")])
    assert summary.added == 2
    (failure,) = summary.failures
    assert "over the limit of 1,000,000" in (failure.error or "") and "max_segment_chars" in (failure.error or "")


def test_an_image_payload_that_is_not_an_image_is_the_modalitys_fault(tmp_path: Path, open_engine: OpenEngine) -> None:
    engine = _engine(open_engine)
    summary = engine.index([_library(tmp_path, b="imagestr")])
    (failure,) = summary.failures
    assert "modality 'evil'" in (failure.error or "") and "PIL.Image.Image, got str" in (failure.error or "")
    assert "hash" not in (failure.error or ""), "the embedder is not to blame"


def test_a_hung_extract_fails_at_the_time_limit_and_the_rest_is_written(tmp_path: Path, open_engine: OpenEngine) -> None:
    RELEASE.clear()
    engine = _engine(open_engine, extract_timeout=1)
    started = time.monotonic()
    try:
        summary = engine.index([_library(tmp_path, b="hang")])
    finally:
        RELEASE.set()
    assert time.monotonic() - started < 30
    assert summary.added == 2
    (failure,) = summary.failures
    assert "took longer than 1 s" in (failure.error or "") and "extract_timeout" in (failure.error or "")


HANGING_PLUGIN = '''
import os, time
import mmsearch
from mmsearch.types import TEXT, Segment

class Hang(mmsearch.Modality):
    name = "hang"
    kinds = frozenset({TEXT})
    extensions = frozenset({".hang"})

    def extract(self, source):
        open(os.environ["HANG_MARKER"], "w").close()
        while True:  # a decoder stuck for good; ignores everything
            time.sleep(1)
        yield Segment(TEXT, "never")

@mmsearch.hookimpl
def register_modalities(register):
    register(Hang())
'''


def test_ctrl_c_stops_a_run_held_by_a_hung_extract_and_keeps_what_finished(tmp_path: Path) -> None:
    """The first Ctrl-C was swallowed (the pool joined a thread that never returns), and a.txt,
    read before the hung file, was not written: README says "Files finished before this point
    are kept"."""
    import os
    import signal
    import subprocess

    (tmp_path / "hangplugin.py").write_text(HANGING_PLUGIN)
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a.txt").write_text("apples finished before the hang")
    (lib / "b.hang").write_text("x")
    marker = tmp_path / "hanging"
    env = {**os.environ, "MMSEARCH_PLUGINS": "mmsearch.testing.plugin,hangplugin", "MMSEARCH_EMBEDDERS": "hash",
           "HANG_MARKER": str(marker), "MMSEARCH_BATCH_SIZE": "32",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    index = tmp_path / "idx"
    # as at a terminal: under a background job SIGINT starts ignored, and mmsearch keeps ignoring
    # it as nohup users expect
    proc = subprocess.Popen([sys.executable, "-m", "mmsearch", "--index", str(index), "index", str(lib)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), "the hung extract never started"
        time.sleep(2)  # a.txt is read meanwhile
        proc.send_signal(signal.SIGINT)
        # a hung run used to need SIGKILL. Once, in a full CI run on a 2-core machine loaded by other
        # work, it did not exit within 15 s (not reproduced alone, in a background job or with
        # SIGINT ignored): the bound tells "stops" from "hangs", it is not a speed target
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Interrupted." in err and "Traceback" not in err
    listed = subprocess.run([sys.executable, "-m", "mmsearch", "--index", str(index), "status", "--json"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert '"text": 1' in listed.stdout.replace("\n", " ").replace("  ", " ") or "a.txt" in listed.stdout, listed.stdout


def test_a_plugin_command_that_raises_is_one_error_line_naming_it(tmp_path: Path) -> None:
    """A raising plugin command printed a bare traceback; one named `search` replaced the
    built-in's help text while the built-in still ran."""
    import os
    import subprocess

    (tmp_path / "crashy_commands.py").write_text(
        "import click, mmsearch\n"
        "@mmsearch.hookimpl\n"
        "def register_commands(cli):\n"
        "    @cli.command('evil-crash')\n"
        "    def crash():\n"
        "        raise RuntimeError('kaboom')\n"
        "    @cli.command('search')\n"
        "    def search():\n"
        "        '''PLUGIN SEARCH'''\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]), "MMSEARCH_PLUGINS": "crashy_commands"}
    crashed = subprocess.run([sys.executable, "-m", "mmsearch", "evil-crash"], env=env, capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 1 and "Traceback" not in crashed.stderr, crashed.stderr
    assert "Error: plugin command 'evil-crash' (plugin crashy_commands) failed: RuntimeError: kaboom" in crashed.stderr
    listing = subprocess.run([sys.executable, "-m", "mmsearch", "--help"], env=env, capture_output=True, text=True, timeout=120)
    assert "PLUGIN SEARCH" not in listing.stdout
    assert "its command 'search' has the name of a built-in command" in listing.stderr


class Stealer(mmsearch.Modality):
    name = "stealer"
    kinds = frozenset({TEXT})
    extensions = frozenset({".txt", ".md", ".png"})

    def extract(self, source: Source) -> Iterator[Segment]:
        yield Segment(TEXT, f"stolen {source.path.name}")


def test_a_plugin_taking_builtin_extensions_is_named_and_its_files_are_reread_once_it_is_gone(
        tmp_path: Path, open_engine: OpenEngine) -> None:
    lib = _library(tmp_path)
    index = tmp_path / "idx"
    with pytest.warns(PluginWarning, match=r"plugin 'EvilPlugin': its modality 'stealer' reads \.md, \.txt files in place of the built-in modality 'text'"):
        engine = open_engine(index, plugins=[fake_plugin(), EvilPlugin(Stealer())])
    assert engine.registry.reads("stealer") == [".md", ".png", ".txt"] and ".txt" not in engine.registry.reads("text")
    engine.index([lib])
    assert engine.status().media == {"stealer": 2}
    engine.close()
    again = open_engine(index).index([lib])  # the plugin is uninstalled
    assert again.updated == 2 and again.unchanged == 0, "files of a gone modality that another reads are re-read"
    assert open_engine(index).status().media == {"text": 2}
