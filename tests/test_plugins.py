"""The plugin contract as a plugin author meets it: every hook, duplicates, load control, isolation."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

import mmsearch
from mmsearch import hookimpl
from mmsearch.plugins import PluginWarning, Registry, make_plugin_manager
from mmsearch.search.fusion import Fuser, LegScores
from mmsearch.settings import Settings
from mmsearch.testing import HashEmbedder, fake_plugin
from mmsearch.types import TEXT, Locator, Segment, Source


class CsvModality(mmsearch.Modality):
    """A third-party modality: one text segment per CSV row."""

    name = "csv"
    kinds = frozenset({TEXT})
    extensions = frozenset({".csv"})

    def extract(self, source: Source) -> Iterator[Segment]:
        offset = 0
        for line in source.path.read_text().splitlines(keepends=True):
            if line.strip():
                yield Segment(TEXT, line.strip(), Locator(char_start=offset, char_end=offset + len(line)), text=line.strip())
            offset += len(line)


class CsvPlugin:
    @hookimpl
    def register_modalities(self, register: Callable[[mmsearch.Modality], None]) -> None:
        register(CsvModality())


def test_hook_register_modalities(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "birds.csv").write_text("robin,red breast\nheron,long legs wading\n")
    engine = open_engine(plugins=[fake_plugin(), CsvPlugin()])
    assert engine.index([tmp_path / "lib"]).added == 1
    hit = engine.search("heron wading")[0]
    assert hit.path == "birds.csv" and hit.modality == "csv"
    assert hit.best is not None and hit.best.text == "heron,long legs wading" and hit.best.locator.char_start == 17


def test_hook_register_embedders() -> None:
    registry = Registry(make_plugin_manager([fake_plugin(HashEmbedder(dim=16))]), Settings())
    assert registry.embedders["hash"].obj.dim == 16
    assert registry.embedders["hash"].plugin != "mmsearch.defaults"


def test_hook_register_fusers(tmp_path: Path, library: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    class Reverse(Fuser):
        name = "reverse"

        def fuse(self, legs: list[LegScores]) -> dict[int, float]:
            return {m: -s for leg in legs for m, s in leg.scores.items()}

    class FuserPlugin:
        @hookimpl
        def register_fusers(self, register: Callable[[Fuser], None]) -> None:
            register(Reverse())

    engine = open_engine(plugins=[fake_plugin(), FuserPlugin()])
    engine.index([library])
    normal = [h.path for h in engine.search("kitten", k=5)]
    reverse = [h.path for h in engine.search("kitten", k=5, fuser="reverse", min_score=0.0)]
    assert normal[0] == "photos/cat.png" and reverse[-1] == "photos/cat.png"
    assert set(reverse) == set(normal)


def test_hook_register_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    class CommandPlugin:
        @hookimpl
        def register_commands(self, cli: click.Group) -> None:
            @cli.command()
            def hello() -> None:
                """Say hello."""
                click.echo("hello from a plugin")

    from mmsearch import cli as cli_module

    pm = make_plugin_manager([CommandPlugin()])
    group = click.Group(commands=dict(cli_module.cli.commands))
    pm.hook.register_commands(cli=group)
    result = CliRunner().invoke(group, ["hello"])
    assert result.output == "hello from a plugin\n"


def test_hook_ignore_path(library: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    class SkipDocs:
        @hookimpl
        def ignore_path(self, path: Path) -> bool | None:
            return True if path.name == "docs" else None

    class KeepHidden:
        @hookimpl(tryfirst=True)
        def ignore_path(self, path: Path) -> bool | None:
            return False if path.name == ".hidden" else None

    engine = open_engine(plugins=[fake_plugin(), SkipDocs(), KeepHidden()])
    engine.index([library])
    paths = {h.path for h in engine.search("cat kitten", k=50)}
    assert ".hidden/secret.png" in paths  # a plugin overrode the default dotfile rule
    assert not any(p.startswith("docs/") for p in paths)


def test_a_duplicate_name_disables_one_plugin_naming_both_and_the_rest_runs() -> None:
    first, second = fake_plugin(), fake_plugin()
    with pytest.warns(PluginWarning, match=r"disabled: its embedder 'hash' is also registered by plugin .*MMSEARCH_LOAD_PLUGINS"):
        registry = Registry(make_plugin_manager([first, second]), Settings())
    assert list(registry.failures) == [registry.pm.get_name(first) or str(id(first))]  # pluggy calls the later one first
    assert "hash" in registry.embedders and "text" in registry.modalities


def test_a_third_party_name_taken_by_a_built_in_gives_way_to_it() -> None:
    """Before, every command (`mmsearch plugins` too) stopped on the clash, and "uninstall one" could
    not be done when one side was built in."""
    from mmsearch.modality import Modality

    class MyText(Modality):
        name = "text"
        kinds = frozenset({"text"})
        extensions = frozenset({".mytxt"})

        def extract(self, source):  # type: ignore[no-untyped-def]
            return iter(())

    class Rival:
        @hookimpl
        def register_modalities(self, register) -> None:  # type: ignore[no-untyped-def]
            register(MyText())

    rival = Rival()
    with pytest.warns(PluginWarning, match=r"its modality 'text' is also registered by the built-in plugin 'text'"):
        registry = Registry(make_plugin_manager([rival]), Settings())
    assert ".txt" in registry.modalities["text"].obj.extensions  # the built-in one
    assert registry.pm.get_plugin("text") is not None and len(registry.failures) == 1


def test_misspelt_hook_disables_the_plugin_loudly() -> None:
    class Typo:
        @hookimpl
        def register_embeders(self, register) -> None:  # type: ignore[no-untyped-def]
            pass

    with pytest.warns(PluginWarning, match=r"disabled: implements unknown hook 'register_embeders'; did you mean 'register_embedders'"):
        pm = make_plugin_manager([Typo()])
    assert [f.reason for f in pm.failures.values()] == ["implements unknown hook 'register_embeders'; did you mean 'register_embedders'?"]


def test_registering_a_non_modality_is_refused() -> None:
    class Bad:
        @hookimpl
        def register_modalities(self, register) -> None:  # type: ignore[no-untyped-def]
            register("not a modality")

    with pytest.warns(PluginWarning, match="expected a Modality"):
        registry = Registry(make_plugin_manager([Bad()]), Settings())
    assert "expected a Modality" in next(iter(registry.failures.values())).reason


def test_third_party_modality_wins_over_builtin_for_same_extension(tmp_path: Path) -> None:
    class TxtAsCsv(CsvModality):
        name = "lines"
        extensions = frozenset({".txt"})

    class Plugin:
        @hookimpl
        def register_modalities(self, register) -> None:  # type: ignore[no-untyped-def]
            register(TxtAsCsv())

    registry = Registry(make_plugin_manager([Plugin()]), Settings())
    modality = registry.modality_for(Path("notes.txt"))
    assert modality is not None and modality.name == "lines"


def test_load_plugins_env_restricts_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMSEARCH_LOAD_PLUGINS", "text")
    registry = Registry(make_plugin_manager(), Settings())
    assert set(registry.modalities) == {"text"}
    monkeypatch.setenv("MMSEARCH_LOAD_PLUGINS", "")
    assert Registry(make_plugin_manager(), Settings()).modalities == {}


def test_extra_plugin_modules_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")
    assert "hash" in Registry(make_plugin_manager(), Settings()).embedders
    monkeypatch.setenv("MMSEARCH_PLUGINS", "no.such.module")
    with pytest.warns(PluginWarning, match="no.such.module"):
        assert "no.such.module" in make_plugin_manager().failures


def test_two_engines_do_not_share_plugin_state(tmp_path: Path) -> None:
    with mmsearch.Engine.open(tmp_path / "a", embedders=["hash"], plugins=[fake_plugin(), CsvPlugin()]) as a, \
         mmsearch.Engine.open(tmp_path / "b", embedders=["hash"], plugins=[fake_plugin()]) as b:
        assert "csv" in a.registry.modalities and "csv" not in b.registry.modalities
        assert a.pm is not b.pm


def test_embedder_base_checks_what_plugins_return() -> None:
    class WrongShape(HashEmbedder):
        def embed_batch(self, kind, payloads):  # type: ignore[no-untyped-def]
            return np.zeros((len(payloads), 3), dtype=np.float32)

    with pytest.raises(mmsearch.EmbedError, match=r"returned shape \(2, 3\).*expected \(2, 64\)"):
        WrongShape().embed(TEXT, ["a", "b"])


def test_plugins_command_lists_builtins_as_json() -> None:
    from mmsearch.cli import cli

    result = CliRunner().invoke(cli, ["plugins", "--json"])
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["image"]["modalities"] == ["image"] and rows["image"]["hooks"] == ["register_modalities"]
    assert rows["text"]["modalities"] == ["text"]
    assert rows["image"]["distribution"].startswith("mmsearch ")
    assert rows["mmsearch.defaults"]["fusers"] == ["rrf", "weighted"]


def test_a_builtin_command_does_not_load_the_plugins_but_a_plugin_command_still_runs(tmp_path: Path) -> None:
    """Plugin commands load when a name is not built in (or for --help): a cold `mmsearch search`
    no longer pays for importing every plugin just to look for commands."""
    import os
    import subprocess
    import sys

    (tmp_path / "greeter_plugin.py").write_text(
        "import click, mmsearch\n"
        "@mmsearch.hookimpl\n"
        "def register_commands(cli):\n"
        "    @cli.command()\n"
        "    def greet():\n"
        "        click.echo('hello from a plugin command')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
           "MMSEARCH_PLUGINS": "greeter_plugin"}
    probe = ("import sys\nfrom mmsearch.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
             "print('LOADED', sorted(m for m in sys.modules if m.startswith('mmsearch_') or m == 'greeter_plugin'))\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120, env=env)

    builtin = run("--index", str(tmp_path / "none"), "db", "compact")
    assert "no index database" in builtin.stderr, builtin.stderr
    assert "LOADED []" in builtin.stdout, builtin.stdout
    plugin = run("greet")
    assert "hello from a plugin command" in plugin.stdout, plugin.stdout + plugin.stderr
    listing = run("--help")
    assert "greet" in listing.stdout and "search" in listing.stdout, listing.stdout
