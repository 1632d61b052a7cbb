"""Issue 10 item 18: the video plugin gets speech-to-text through the declared Transcriber
interface (register_transcribers → register_modalities(transcribers)), not the audio internals."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mmsearch import hookimpl
from mmsearch.plugins import Registry, make_plugin_manager
from mmsearch.settings import Settings
from mmsearch.transcriber import Transcriber
from mmsearch.types import TEXT, Locator, Segment

ROOT = Path(__file__).resolve().parents[1]


class Parrot:
    name = "parrot"

    def transcribe(self, path: Path) -> Iterator[Segment]:
        yield Segment(TEXT, "hello", Locator(start=0.0, end=1.0), text="hello")


class ParrotPlugin:
    @hookimpl
    def register_transcribers(self, register: Callable[[Transcriber], None]) -> None:
        register(Parrot())


def test_hook_register_transcribers(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    class Consumer:
        @hookimpl
        def register_modalities(self, transcribers) -> None:  # type: ignore[no-untyped-def]
            seen.update(transcribers)

    monkeypatch.setenv("MMSEARCH_LOAD_PLUGINS", "")
    registry = Registry(make_plugin_manager([ParrotPlugin(), Consumer()]), Settings())
    assert registry.transcribers["parrot"].plugin != "mmsearch.defaults"
    assert isinstance(seen["parrot"], Parrot), "register_modalities must receive the registered transcribers"


def test_video_takes_its_transcriber_from_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("av")
    monkeypatch.setenv("MMSEARCH_LOAD_PLUGINS", "video")  # no audio plugin at all
    registry = Registry(make_plugin_manager([ParrotPlugin()]), Settings(environ={}))
    assert isinstance(registry.modalities["video"].obj.transcriber, Parrot)
    monkeypatch.setenv("MMSEARCH_LOAD_PLUGINS", "video")
    alone = Registry(make_plugin_manager(), Settings(environ={}))
    assert alone.modalities["video"].obj.transcriber is None, "without a transcriber, video indexes frames only"


def test_no_plugin_imports_another_plugins_internals() -> None:
    plugins = {p.name for p in (ROOT / "plugins").iterdir() if p.is_dir() and p.name.startswith("mmsearch_")}
    offenders = []
    for package in plugins:
        for path in (ROOT / "plugins" / package).rglob("*.py"):
            if path.name == "bench.py":  # benchmarks may reuse another plugin's media helpers
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
                offenders += [f"{path.relative_to(ROOT)} imports {n}" for n in names
                              if n.split(".")[0] in plugins - {package}]
    assert not offenders, offenders
