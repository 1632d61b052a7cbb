"""Issue 10 item 11: one broken plugin (import error, misspelt hook, raising hook) is disabled with
a one-line warning naming it; every other plugin and every command keeps working."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from mmsearch import hookimpl
from mmsearch import plugins as plugins_module
from mmsearch.plugins import PluginWarning, Registry, make_plugin_manager
from mmsearch.settings import Settings
from mmsearch.testing import fake_plugin

BROKEN = {
    # fails to import
    "broken_import": "import no_such_dependency_xyz\n",
    # a misspelt hook name
    "broken_typo": textwrap.dedent("""
        import mmsearch

        @mmsearch.hookimpl
        def register_embeders(register):
            pass
    """),
    # a hook that raises
    "broken_hook": textwrap.dedent("""
        import mmsearch

        @mmsearch.hookimpl
        def register_modalities(register):
            raise RuntimeError("disk on fire")
    """),
}


@pytest.fixture
def broken_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, source in BROKEN.items():
        (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("MMSEARCH_PLUGINS", ",".join(BROKEN))
    return tmp_path


def test_every_broken_plugin_is_disabled_and_named(broken_plugins: Path) -> None:
    with pytest.warns(PluginWarning) as caught:
        registry = Registry(make_plugin_manager([fake_plugin()]), Settings())
    assert set(registry.failures) == set(BROKEN), "each broken plugin must be named, not only the first"
    reasons = {name: failure.reason for name, failure in registry.failures.items()}
    assert "no_such_dependency_xyz" in reasons["broken_import"], reasons
    assert "register_embeders" in reasons["broken_typo"], reasons
    assert "disk on fire" in reasons["broken_hook"], reasons
    messages = [str(w.message) for w in caught]
    assert all("\n" not in m for m in messages), f"warnings must be one line: {messages}"
    assert {"text", "image"} <= set(registry.modalities), "healthy plugins must keep working"
    assert "hash" in registry.embedders


def test_hook_that_raises_loses_what_it_registered_before() -> None:
    class HalfBroken:
        @hookimpl
        def register_fusers(self, register) -> None:  # type: ignore[no-untyped-def]
            from mmsearch.search.fusion import WeightedSum

            class Mine(WeightedSum):
                name = "mine"

            register(Mine())
            raise ValueError("second fuser missing")

    with pytest.warns(PluginWarning, match="second fuser missing"):
        registry = Registry(make_plugin_manager([HalfBroken()]), Settings())
    assert "mine" not in registry.fusers and {"weighted", "rrf"} <= set(registry.fusers)


def test_entry_point_that_fails_to_import_is_disabled(monkeypatch: pytest.MonkeyPatch, broken_plugins: Path) -> None:
    monkeypatch.delenv("MMSEARCH_PLUGINS")
    real = metadata.entry_points(group="mmsearch")
    fake = metadata.EntryPoint(name="thirdparty", value="broken_import", group="mmsearch")
    monkeypatch.setattr(plugins_module.metadata, "entry_points", lambda group: [*real, fake])
    with pytest.warns(PluginWarning, match=r"plugin 'thirdparty' disabled: cannot import broken_import .*no_such_dependency_xyz"):
        pm = make_plugin_manager()
    assert "thirdparty" in pm.failures and pm.get_plugin("text") is not None


def _cli(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-c", "from mmsearch.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_cli_help_and_plugins_survive_broken_plugins(broken_plugins: Path) -> None:
    env = {"MMSEARCH_PLUGINS": ",".join(BROKEN), "PYTHONPATH": os.pathsep.join([str(broken_plugins), *sys.path])}
    help_run = _cli("--help", env_extra=env)
    assert help_run.returncode == 0 and "Usage:" in help_run.stdout, help_run.stderr
    listed = _cli("plugins", "--json", env_extra=env)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    for name in BROKEN:
        assert rows[name]["status"] == "failed" and rows[name]["reason"], rows[name]
        warning_lines = [line for line in listed.stderr.splitlines() if f"'{name}'" in line]
        assert len(warning_lines) == 1 and warning_lines[0].startswith("Warning: plugin"), listed.stderr
    assert rows["text"]["status"] == "ok"
    plain = _cli("plugins", env_extra=env)
    assert "broken_hook: FAILED, disabled: register_modalities raised RuntimeError: disk on fire" in plain.stdout, plain.stdout


def test_ignore_path_that_raises_disables_only_that_plugin(library: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    class Crashy:
        @hookimpl(tryfirst=True)
        def ignore_path(self, path: Path) -> bool | None:
            raise OSError("cannot stat the exclusion list")

    engine = open_engine(plugins=[fake_plugin(), Crashy()])
    with pytest.warns(PluginWarning, match="ignore_path raised OSError: cannot stat the exclusion list"):
        summary = engine.index([library])
    assert summary.added > 0
    assert not any(h.path.startswith(".hidden/") for h in engine.search("cat", k=50)), "the default rule still answers"


def test_ignore_path_answering_a_non_bool_is_disabled_not_obeyed(library: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    """"no" is truthy: the plugin that meant "keep it" skipped every file, and the run said only
    "N removed"."""
    class Wordy:
        @hookimpl(tryfirst=True)
        def ignore_path(self, path: Path) -> str:
            return "no"

    engine = open_engine(plugins=[fake_plugin(), Wordy()])
    with pytest.warns(PluginWarning, match=r"ignore_path returned 'no'; it must return bool or None"):
        summary = engine.index([library])
    assert summary.added == 5 and not any(h.path.startswith(".hidden/") for h in engine.search("cat", k=50))


def test_a_bad_setting_a_plugin_reads_is_the_users_error_not_a_broken_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MMSEARCH_BATCH_SIZE=abc used to disable the lite plugin, and the next line blamed a missing
    plugin ("install that plugin"); the setting is what to fix, so its message is what is shown."""
    from mmsearch.errors import ConfigError

    (tmp_path / "strict_settings.py").write_text(textwrap.dedent("""
        import mmsearch

        @mmsearch.hookimpl
        def register_embedders(register, settings):
            settings.get_int("batch_size")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("MMSEARCH_PLUGINS", "strict_settings")
    monkeypatch.setenv("MMSEARCH_BATCH_SIZE", "abc")
    with pytest.raises(ConfigError, match=r"setting 'batch_size' \(env MMSEARCH_BATCH_SIZE\) must be a whole number, got 'abc'"):
        Registry(make_plugin_manager([fake_plugin()]), Settings())


def test_a_module_that_is_not_a_plugin_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMSEARCH_PLUGINS", "json")  # importable, but implements no hook
    with pytest.warns(PluginWarning, match="plugin 'json' disabled: MMSEARCH_PLUGINS names it but it implements no mmsearch hook"):
        registry = Registry(make_plugin_manager([fake_plugin()]), Settings())
    assert "json" in registry.failures
