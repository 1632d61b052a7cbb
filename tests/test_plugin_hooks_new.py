"""Issue 10 item 17: plugins declare typed settings (typos in mmsearch.toml are refused with the
known keys listed) and hear about finished indexing runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import mmsearch
from mmsearch import hookimpl
from mmsearch.errors import ConfigError
from mmsearch.plugins import PluginWarning
from mmsearch.settings import Setting, SettingsSection
from mmsearch.testing import fake_plugin

DIM = Setting(int, 64, "vector size")


class BowPlugin:
    seen: dict[str, object] = {}

    @hookimpl
    def register_settings(self, register: Callable[[SettingsSection], None]) -> None:
        register(SettingsSection("bow", {"dim": DIM, "lowercase": Setting(bool, True)}))

    @hookimpl
    def register_modalities(self, settings: mmsearch.Settings) -> None:
        BowPlugin.seen["dim"] = settings.typed("bow.dim", DIM)


def _write_toml(index: Path, text: str) -> None:
    index.mkdir(parents=True, exist_ok=True)
    (index / "mmsearch.toml").write_text(text)


def test_hook_register_settings(tmp_path: Path) -> None:
    _write_toml(tmp_path / "ok", "[bow]\ndim = 128\n")
    with mmsearch.Engine.open(tmp_path / "ok", embedders=["hash"], plugins=[fake_plugin(), BowPlugin()]):
        assert BowPlugin.seen["dim"] == 128

    _write_toml(tmp_path / "typo", "[bow]\ndimm = 128\n")
    with pytest.raises(ConfigError, match=r"mmsearch.toml: unknown setting 'dimm' in \[bow\]; \[bow\] takes: dim, lowercase"):
        mmsearch.Engine.open(tmp_path / "typo", embedders=["hash"], plugins=[fake_plugin(), BowPlugin()])

    _write_toml(tmp_path / "type", "[bow]\ndim = \"wide\"\n")
    with pytest.raises(ConfigError, match=r"'bow.dim' .* must be a whole number, got 'wide'"):
        mmsearch.Engine.open(tmp_path / "type", embedders=["hash"], plugins=[fake_plugin(), BowPlugin()])


def test_undeclared_sections_are_left_alone(tmp_path: Path) -> None:
    _write_toml(tmp_path / "idx", "[someone_else]\nanything = 1\n")
    with mmsearch.Engine.open(tmp_path / "idx", embedders=["hash"], plugins=[fake_plugin(), BowPlugin()]):
        assert BowPlugin.seen["dim"] == 64, "the declared default applies when the key is unset"


def test_hook_index_finished(library: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    heard: list[tuple[int, object]] = []

    class Listener:
        @hookimpl
        def index_finished(self, summary: mmsearch.IndexSummary, engine: mmsearch.Engine) -> None:
            heard.append((summary.added, engine))

    class Broken:
        @hookimpl
        def index_finished(self, summary: mmsearch.IndexSummary) -> None:
            raise RuntimeError("report server down")

    engine = open_engine(plugins=[fake_plugin(), Listener(), Broken()])
    with pytest.warns(PluginWarning, match="index_finished raised RuntimeError: report server down"):
        summary = engine.index([library])
    assert heard == [(summary.added, engine)] and summary.added > 0
    engine.index([library])
    assert len(heard) == 2, "every run is announced, the broken listener no longer is"


def test_plugin_command_gets_a_context_that_opens_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import click
    from click.testing import CliRunner

    from mmsearch.cli import cli
    from mmsearch.cli.context import CliContext

    @click.command("count-segments")
    @click.pass_obj
    def count_segments(obj: CliContext) -> None:
        assert isinstance(obj, CliContext)
        with obj.open_engine(announce=False) as engine:
            click.echo(f"{obj.embedders} {engine.status().segments}")

    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")
    monkeypatch.setitem(cli.commands, "count-segments", count_segments)
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "idx"), "--embedder", "hash", "count-segments"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "('hash',) 0"
