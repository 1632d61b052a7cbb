"""A decoder's warning (Pillow, pypdf, ...) belongs to the file it was reading: it goes to the
``mmsearch.index`` log (shown by ``--debug``) with that file's name, never loose on stderr."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import OpenEngine
from mmsearch.modality import Modality
from mmsearch.testing.fakes import hookimpl
from mmsearch.types import TEXT, Segment, Source


class GrumpyModality(Modality):
    """Reads .grumpy files as text, warning the way third-party decoders do."""

    name = "grumpy"
    kinds = frozenset({TEXT})
    extensions = frozenset({".grumpy"})

    def extract(self, source: Source) -> Iterator[Segment]:
        warnings.warn(f"odd header in {source.path.name}", UserWarning, stacklevel=1)
        text = source.path.read_text()
        yield Segment(kind=TEXT, payload=text, text=text)


class GrumpyPlugin:
    @hookimpl
    def register_modalities(self, register: Callable[[Modality], None]) -> None:
        register(GrumpyModality())


def _library(tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    lib.mkdir()
    for name in ("a", "b", "c"):  # the same warning from every file, not only the first
        (lib / f"{name}.grumpy").write_text(f"note {name}\n")
    return lib


def test_decoder_warnings_go_to_the_files_log_not_stderr(tmp_path: Path, open_engine: OpenEngine, caplog: pytest.LogCaptureFixture) -> None:
    from mmsearch.testing import fake_plugin

    engine = open_engine(plugins=[fake_plugin(), GrumpyPlugin()])
    caplog.set_level(logging.DEBUG, logger="mmsearch.index")
    with warnings.catch_warnings(record=True) as leaked:
        warnings.simplefilter("always")
        summary = engine.index([_library(tmp_path)])
    assert summary.added == 3
    assert [str(w.message) for w in leaked if "odd header" in str(w.message)] == []
    logged = sorted(r.getMessage() for r in caplog.records if "odd header" in r.getMessage())
    assert logged == [f"{n}.grumpy: UserWarning: odd header in {n}.grumpy" for n in ("a", "b", "c")]


def test_debug_prints_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mmsearch.cli import cli

    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")
    logging.getLogger("mmsearch").setLevel(logging.NOTSET)  # as a fresh process starts (an earlier --debug test may have set it)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("mmsearch").addHandler(handler)
    try:
        from mmsearch.engine import Engine

        real_open = Engine.open.__func__  # type: ignore[attr-defined]
        monkeypatch.setattr(Engine, "open", classmethod(lambda cls, *a, **kw: real_open(cls, *a, **{**kw, "plugins": [GrumpyPlugin()]})))
        plain = CliRunner().invoke(cli, ["--index", str(tmp_path / "i"), "--embedder", "hash", "index", str(_library(tmp_path))])
        assert plain.exit_code == 0 and plain.stderr == "" and not any(logging.DEBUG == r.levelno for r in records)
        (tmp_path / "lib" / "d.grumpy").write_text("note d\n")
        debug = CliRunner().invoke(cli, ["--index", str(tmp_path / "i"), "--embedder", "hash", "--debug", "index", str(tmp_path / "lib")])
    finally:
        logging.getLogger("mmsearch").removeHandler(handler)
        logging.getLogger("mmsearch").setLevel(logging.NOTSET)
    assert debug.exit_code == 0, debug.output
    assert [r.getMessage() for r in records if r.levelno == logging.DEBUG and "odd header" in r.getMessage()] == [
        "d.grumpy: UserWarning: odd header in d.grumpy"]


_LOGGING_LIBRARY = '''
import logging, sys, warnings
from pathlib import Path
import mmsearch
from mmsearch.modality import Modality
from mmsearch.testing import fake_plugin
from mmsearch.testing.fakes import hookimpl
from mmsearch.types import TEXT, Segment

class Chatty(Modality):  # logs the way pypdf does (logging.getLogger("pypdf").warning)
    name, kinds, extensions = "chatty", frozenset({TEXT}), frozenset({".chatty"})
    def extract(self, source):
        logging.getLogger("pypdf._reader").warning("Ignoring wrong pointing object 6 0 (offset 0)")
        warnings.warn("odd header", UserWarning)
        yield Segment(kind=TEXT, payload="note", text="note")

class Plugin:
    @hookimpl
    def register_modalities(self, register):
        register(Chatty())

lib = Path(sys.argv[1])
with mmsearch.Engine.open(lib.parent / "index", embedders=["hash"], plugins=[fake_plugin(), Plugin()]) as engine:
    print(engine.index([lib]).added)
'''


def test_library_log_records_stay_off_stderr(tmp_path: Path) -> None:
    import subprocess
    import sys

    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a.chatty").write_text("x")
    # A child process: under pytest the root logger always has handlers, which hides what a
    # plain process does with a library's warning (Python's last resort prints it to stderr).
    done = subprocess.run([sys.executable, "-c", _LOGGING_LIBRARY, str(lib)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    assert done.stderr == ""
