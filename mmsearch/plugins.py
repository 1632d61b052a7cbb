"""Plugin manager factory: one manager per Engine, specs first, then core defaults and entry points."""

from __future__ import annotations

import difflib
import importlib
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from types import MappingProxyType
from typing import Any, TypeVar

import pluggy

from . import defaults, hookspecs
from .embedder import Embedder
from .errors import ConfigError, ExtractError, MMSearchError, PluginError
from .extras import MissingExtraError
from .search.fusion import Fuser
from .modality import Modality, describe_exception
from .segment_check import is_empty_text, problem
from .settings import Settings, SettingsSection
from .transcriber import Transcriber
from .types import Segment, Source

PROJECT = "mmsearch"
#: Comma-separated entry-point names to load; unset loads all, empty loads none.
LOAD_ENV = "MMSEARCH_LOAD_PLUGINS"
#: Comma-separated importable modules to register as plugins without packaging them (like pytest -p).
EXTRA_ENV = "MMSEARCH_PLUGINS"

hookimpl = pluggy.HookimplMarker(PROJECT)

T = TypeVar("T")


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, remembering which distribution (and version) supplied each plugin."""

    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.versions: dict[str, str] = {}
        self.failures: dict[str, PluginFailure] = {}  # disabled plugins, by name, with the reason


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that was disabled, and why (one line, saying what to do where we can tell)."""

    name: str
    reason: str


class PluginWarning(UserWarning):
    """Emitted once per disabled plugin; the CLI prints it as one ``Warning:`` line."""


def make_plugin_manager(extra: Iterable[object] = ()) -> PluginManager:
    """A fresh manager: specs, core defaults, entry-point plugins, then ``extra`` (for tests).

    A plugin that fails to import, fails pluggy's validation or implements a hook that does not
    exist (a misspelling) is disabled and recorded in ``pm.failures``: one broken plugin must not
    take down every command, and every broken plugin is named, not only the first.
    """
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    pm.register(defaults, name="mmsearch.defaults")
    _load_entry_points(pm)
    for module in filter(None, (m.strip() for m in os.environ.get(EXTRA_ENV, "").split(","))):
        try:
            plugin = importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any import failure disables just this plugin
            disable(pm, module, f"{EXTRA_ENV} names it but it cannot be imported ({_describe(exc)})")
            continue
        _register(pm, plugin, module)
        if pm.get_plugin(module) is not None and not pm.get_hookcallers(plugin):
            # Importable but not a plugin (a typo naming a real module, `os`): say so, once.
            disable(pm, module, f"{EXTRA_ENV} names it but it implements no mmsearch hook (@mmsearch.hookimpl); "
                                "check the module name")
    for plugin in extra:
        _register(pm, plugin, None)
    _disable_unknown_hooks(pm)
    pm.check_pending()  # nothing unknown is left; kept so pluggy's own rule stays enforced
    return pm


def disable(pm: PluginManager, name: str, reason: str, *, quiet: bool = False) -> None:
    """Unregister plugin ``name`` (if registered), record why and warn once, in one line.

    ``quiet``: record only (``mmsearch plugins`` shows it). For an optional extra that is simply
    not installed, a warning before every command would be noise, not news."""
    plugin = pm.get_plugin(name)
    if plugin is not None:
        pm.unregister(plugin)
    if not pm.is_blocked(name):
        pm.set_blocked(name)  # an entry point of the same name must not come back
    if name not in pm.failures:
        pm.failures[name] = PluginFailure(name, reason)
        if not quiet:
            warnings.warn(f"plugin {name!r} disabled: {reason}", PluginWarning, stacklevel=2)


def _register(pm: PluginManager, plugin: object, name: str | None) -> None:
    try:
        pm.register(plugin, name=name)
    except Exception as exc:  # noqa: BLE001 - pluggy validation: a bad hook signature, a duplicate
        label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        disable(pm, label, _describe(exc))


def _disable_unknown_hooks(pm: PluginManager) -> None:
    """pluggy's check_pending stops at the first unknown hook; this names every plugin with one."""
    known = [n for n, f in vars(hookspecs).items() if hasattr(f, f"{PROJECT}_spec")]
    for hook_name, caller in list(vars(pm.hook).items()):
        if hook_name.startswith("_") or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            close = difflib.get_close_matches(hook_name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known hooks: {', '.join(sorted(known))}"
            disable(pm, pm.get_name(impl.plugin) or repr(impl.plugin), f"implements unknown hook {hook_name!r}{hint}")


def _describe(exc: BaseException) -> str:
    """One line; our own errors and missing extras speak for themselves, others keep their type."""
    text = " ".join(str(exc).split()) or "no details"
    return text if isinstance(exc, (MMSearchError, MissingExtraError)) else f"{type(exc).__name__}: {text}"


def _import_hint(ep: metadata.EntryPoint, exc: BaseException) -> str:
    """For a missing module: the extra of the plugin's distribution that installs it, if any."""
    if not isinstance(exc, ModuleNotFoundError) or ep.dist is None:
        return ""
    extras = ep.dist.metadata.get_all("Provides-Extra") or []
    if ep.name in extras:
        return f'; install it with: pip install "{ep.dist.name}[{ep.name}]"'
    return f"; install {exc.name!r}" if exc.name else ""


def _load_entry_points(pm: PluginManager) -> None:
    wanted = os.environ.get(LOAD_ENV)
    allowed = None if wanted is None else {n.strip() for n in wanted.split(",") if n.strip()}
    for ep in metadata.entry_points(group=PROJECT):
        if allowed is not None and ep.name not in allowed:
            continue
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # noqa: BLE001 - name the broken plugin instead of a bare traceback
            disable(pm, ep.name, f"cannot import {ep.value} ({_describe(exc)}){_import_hint(ep, exc)}",
                    quiet=isinstance(exc, MissingExtraError))
            continue
        if ep.dist is not None:
            pm.versions[ep.name] = f"{ep.dist.name} {ep.dist.version}"
        _register(pm, plugin, ep.name)


@dataclass(frozen=True)
class Registered:
    """Something a plugin registered, and which plugin did."""

    name: str
    plugin: str
    obj: Any


class PluginConflictError(PluginError):
    """Two plugins registered the same name. The one that loses (a third-party plugin against a
    built-in one, else the second to register) is disabled with this reason, naming both."""


class Registry:
    """Collects ``register(...)`` callbacks, refusing duplicate names with both plugins named.

    A hook implementation that raises (or registers something invalid) disables its plugin:
    everything that plugin registered is dropped, the reason goes to ``pm.failures``.
    """

    def __init__(self, pm: PluginManager, settings: Settings) -> None:
        self.pm = pm
        self.settings = settings
        self.modalities: dict[str, Registered] = {}
        self.embedders: dict[str, Registered] = {}
        self.fusers: dict[str, Registered] = {}
        self.transcribers: dict[str, Registered] = {}
        self.settings_sections: dict[str, Registered] = {}
        self._collect("register_settings", SettingsSection, self.settings_sections)
        settings.check(entry.obj for entry in self.settings_sections.values())  # typos stop here
        settings.check_builtin(set(self.settings_sections))  # and in the built-in sections (README, Typed settings)
        self._collect("register_transcribers", Transcriber, self.transcribers, settings=settings)
        transcribers = MappingProxyType({name: entry.obj for name, entry in self.transcribers.items()})
        self._collect("register_modalities", Modality, self.modalities, settings=settings, transcribers=transcribers)
        self._warn_shadowed()
        self._collect("register_embedders", Embedder, self.embedders, settings=settings)
        self._collect("register_fusers", Fuser, self.fusers)

    def _warn_shadowed(self) -> None:
        """Say when a third-party modality takes extensions from a built-in one: the first
        registered wins (README "Hooks"), and a plugin claiming .txt and .png silently turned
        every text file and photo into its own kind."""
        entries = list(self.modalities.values())
        for i, entry in enumerate(entries):
            if self._built_in(entry.plugin):
                continue
            for later in entries[i + 1:]:
                if not self._built_in(later.plugin):
                    continue
                taken = sorted(set(entry.obj.extensions) & set(later.obj.extensions))
                if taken:
                    warnings.warn(f"plugin {self._readable(entry.plugin)!r}: its modality {entry.name!r} reads {', '.join(taken)} files in place of "
                                  f"the built-in modality {later.name!r}; if that is not what you want, uninstall it or leave it "
                                  f"out of {LOAD_ENV}", PluginWarning, stacklevel=2)

    def _readable(self, plugin_name: str) -> str:
        """A plugin registered as an object without a name goes by its class (pluggy names it by id)."""
        if not plugin_name.isdigit():
            return plugin_name
        plugin = self.pm.get_plugin(plugin_name)
        return str(getattr(plugin, "__name__", None) or type(plugin).__name__)

    def reads(self, modality: str) -> list[str]:
        """The extensions ``modality`` reads: those it claims that no modality registered before it claims."""
        claimed: set[str] = set()
        for entry in self.modalities.values():
            if entry.name == modality:
                return sorted(set(entry.obj.extensions) - claimed)
            claimed |= set(entry.obj.extensions)
        return []

    @property
    def failures(self) -> dict[str, PluginFailure]:
        return self.pm.failures

    def _collect(self, hook_name: str, base: type[T], found: dict[str, Registered], **kwargs: Any) -> None:
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls()[::-1]:  # pluggy's call order: later plugins first
            plugin_name = self.pm.get_name(impl.plugin) or repr(impl.plugin)
            register = self._register_into(found, base, plugin_name, hook_name)
            args = {"register": register, **kwargs}
            try:
                impl.function(**{name: args[name] for name in impl.argnames})
            except ConfigError:
                raise  # a bad setting is the user's to fix (the message names it), not a broken plugin
            except Exception as exc:  # noqa: BLE001 - one broken plugin must not stop the others
                self._drop(plugin_name)
                where = "" if isinstance(exc, PluginError) else f"{hook_name} raised "
                disable(self.pm, plugin_name, f"{where}{_describe(exc)}")

    def _drop(self, plugin_name: str) -> None:
        for table in (self.settings_sections, self.transcribers, self.modalities, self.embedders, self.fusers):
            for name in [n for n, r in table.items() if r.plugin == plugin_name]:
                del table[name]

    def _register_into(
        self, found: dict[str, Registered], base: type, plugin_name: str, hook_name: str
    ) -> Callable[[Any], None]:
        def register(obj: Any) -> None:
            if not isinstance(obj, base):
                raise PluginError(f"{hook_name} registered {obj!r}; expected a {base.__name__}")
            name = getattr(obj, "name", None)
            if not isinstance(name, str) or not name:
                raise PluginError(f"{hook_name} registered a {base.__name__} without a name (set the class attribute `name`)")
            if name in found:
                # One of the two gives way, so that every command (`mmsearch plugins` first) still runs.
                other = found[name].plugin
                why = (f"its {base.__name__.lower()} {name!r} is also registered by {{}}; uninstall one, rename it, "
                       f"or restrict plugins with {LOAD_ENV}")
                if self._built_in(plugin_name) and not self._built_in(other):
                    self._drop(other)
                    disable(self.pm, other, why.format(f"the built-in plugin {plugin_name!r}"))
                else:
                    raise PluginConflictError(why.format(f"plugin {other!r}"))
            if isinstance(obj, Modality) and not self._built_in(plugin_name):
                try:
                    obj.plugin = self._readable(plugin_name)  # its failures name the plugin (a modality with __slots__ stays unnamed)
                except AttributeError:
                    pass
            found[name] = Registered(name, plugin_name, obj)

        return register

    def _built_in(self, plugin_name: str) -> bool:
        """Registered from mmsearch's own distribution (or its core defaults)."""
        return plugin_name == "mmsearch.defaults" or self.pm.versions.get(plugin_name, "").split(" ")[0] == PROJECT

    @property
    def adds_segments(self) -> bool:
        """Whether any plugin implements ``extra_segments`` (else indexing skips the call)."""
        return bool(self.pm.hook.extra_segments.get_hookimpls())

    def extra_segments(self, source: Source, modality: str, segment: Segment) -> list[Segment]:
        """The segments plugins derive from ``segment`` (the ``extra_segments`` hook), checked.
        Called plugin by plugin (pluggy's order), so that a failure names its plugin and fails
        that file only."""
        kwargs = {"source": source, "modality": modality, "segment": segment, "settings": self.settings}
        out: list[Segment] = []
        for impl in self.pm.hook.extra_segments.get_hookimpls()[::-1]:
            if impl.hookwrapper or impl.wrapper:
                continue
            try:
                result = impl.function(**{name: kwargs[name] for name in impl.argnames})
                if result is None:
                    continue
                if isinstance(result, (Segment, str, bytes)) or not isinstance(result, Iterable):
                    raise ExtractError(source.relpath, f"plugin {_label(impl)!r}: extra_segments returned "
                                                       f"{type(result).__name__}, not a list of Segments")
                result = list(result)  # a generator runs here
            except MMSearchError:
                raise
            except Exception as exc:  # noqa: BLE001 - a plugin failing on one file fails that file only
                raise ExtractError(source.relpath, f"extra segments of plugin {_label(impl)!r} failed: {describe_exception(exc)}") from exc
            for extra in result:
                if not isinstance(extra, Segment):
                    raise ExtractError(source.relpath, f"plugin {_label(impl)!r}: extra_segments returned a {type(extra).__name__}, not a Segment")
                reason = problem(extra)
                if reason:
                    raise ExtractError(source.relpath, f"plugin {_label(impl)!r}: extra_segments returned a segment the index cannot hold: {reason}")
                if not is_empty_text(extra):
                    out.append(extra)
        return out

    def modality_for(self, path: Any) -> Modality | None:
        """The modality that reads ``path``: the first registered whose ``accepts`` says so.

        ``accepts`` is plugin code: one that raises took down ``mmsearch index`` with a traceback
        (and a search by example blamed the embedder). Its plugin is disabled with one warning
        naming it, as for any hook that raises, and the next modality answers."""
        for entry in list(self.modalities.values()):
            try:
                accepted = entry.obj.accepts(path)
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the run
                self._drop(entry.plugin)
                disable(self.pm, entry.plugin, f"modality {entry.name!r}: accepts() raised {_describe(exc)} "
                                               f"on {getattr(path, 'name', path)}; its files are left to other plugins")
                continue
            if accepted:
                return entry.obj
        return None


def _label(impl: Any) -> str:
    """A plugin's name as a person knows it: an object registered without a name (pluggy names it
    by its id) goes by its module's or class's name."""
    name = str(impl.plugin_name)
    if not name.isdigit():
        return name
    return str(getattr(impl.plugin, "__name__", None) or type(impl.plugin).__name__)


def first_answer(pm: PluginManager, hook_name: str, answer_type: type | None = None, **kwargs: Any) -> Any:
    """A ``firstresult`` hook (``ignore_path``) called implementation by implementation, in
    pluggy's order: one that raises, or answers with something other than ``answer_type`` or
    None (``"no"`` is truthy: it would skip files), is disabled with a warning and the next one
    answers."""
    for impl in getattr(pm.hook, hook_name).get_hookimpls()[::-1]:
        if impl.hookwrapper or impl.wrapper:
            continue
        try:
            answer = impl.function(**{name: kwargs[name] for name in impl.argnames})
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the walk
            disable(pm, pm.get_name(impl.plugin) or repr(impl.plugin), f"{hook_name} raised {_describe(exc)}")
            continue
        if answer is not None and answer_type is not None and not isinstance(answer, answer_type):
            disable(pm, pm.get_name(impl.plugin) or repr(impl.plugin),
                    f"{hook_name} returned {answer!r}; it must return {answer_type.__name__} or None")
            continue
        if answer is not None:
            return answer
    return None


def notify_index_finished(pm: PluginManager, summary: Any, engine: Any) -> None:
    """The ``index_finished`` hook, each implementation on its own: one that raises is disabled
    with a warning and the others still run; the indexing run's result stands."""
    for impl in pm.hook.index_finished.get_hookimpls()[::-1]:
        args = {"summary": summary, "engine": engine}
        try:
            impl.function(**{name: args[name] for name in impl.argnames})
        except Exception as exc:  # noqa: BLE001 - the index is already written; keep it that way
            disable(pm, pm.get_name(impl.plugin) or repr(impl.plugin), f"index_finished raised {_describe(exc)}")


def describe_plugins(pm: PluginManager, registry: Registry) -> list[dict[str, Any]]:
    """What ``mmsearch plugins`` prints: each plugin, its hooks and what it registered; disabled
    plugins with ``status: "failed"`` and the reason."""
    rows = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:  # blocked: a disabled plugin, listed below with its reason
            continue
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        rows.append(
            {
                "name": name,
                "status": "ok",
                "hooks": hooks,
                "distribution": pm.versions.get(name),
                "modalities": sorted(r.name for r in registry.modalities.values() if r.plugin == name),
                "reads": {r.name: registry.reads(r.name) for r in registry.modalities.values() if r.plugin == name},
                "embedders": sorted(r.name for r in registry.embedders.values() if r.plugin == name),
                "fusers": sorted(r.name for r in registry.fusers.values() if r.plugin == name),
                "transcribers": sorted(r.name for r in registry.transcribers.values() if r.plugin == name),
            }
        )
    for failure in pm.failures.values():
        rows.append({"name": failure.name, "status": "failed", "reason": failure.reason, "hooks": [],
                     "distribution": pm.versions.get(failure.name), "modalities": [], "reads": {}, "embedders": [], "fusers": [], "transcribers": []})
    return sorted(rows, key=lambda row: row["name"])
