"""Plugin manager factory: one manager per Engine, specs first, then core defaults and entry points."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any, TypeVar

import pluggy

from . import defaults, hookspecs
from .embedder import Embedder
from .errors import ExtractError, MMSearchError, PluginError
from .search.fusion import Fuser
from .modality import Modality, describe_exception
from .settings import Settings
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


def make_plugin_manager(extra: Iterable[object] = ()) -> PluginManager:
    """A fresh manager: specs, core defaults, entry-point plugins, then ``extra`` (for tests)."""
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    pm.register(defaults, name="mmsearch.defaults")
    _load_entry_points(pm)
    for module in filter(None, (m.strip() for m in os.environ.get(EXTRA_ENV, "").split(","))):
        try:
            pm.register(importlib.import_module(module), name=module)
        except ImportError as exc:
            raise PluginError(f"{EXTRA_ENV} names {module!r}, which cannot be imported: {exc}") from exc
    for plugin in extra:
        pm.register(plugin)
    pm.check_pending()
    return pm


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
            raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
        pm.register(plugin, name=ep.name)
        if ep.dist is not None:
            pm.versions[ep.name] = f"{ep.dist.name} {ep.dist.version}"


@dataclass(frozen=True)
class Registered:
    """Something a plugin registered, and which plugin did."""

    name: str
    plugin: str
    obj: Any


class Registry:
    """Collects ``register(...)`` callbacks, refusing duplicate names with both plugins named."""

    def __init__(self, pm: PluginManager, settings: Settings) -> None:
        self.pm = pm
        self.settings = settings
        self.modalities: dict[str, Registered] = self._collect("register_modalities", Modality, settings=settings)
        self.embedders: dict[str, Registered] = self._collect("register_embedders", Embedder, settings=settings)
        self.fusers: dict[str, Registered] = self._collect("register_fusers", Fuser)

    def _collect(self, hook_name: str, base: type[T], **kwargs: Any) -> dict[str, Registered]:
        found: dict[str, Registered] = {}
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls()[::-1]:  # pluggy's call order: later plugins first
            plugin_name = self.pm.get_name(impl.plugin) or repr(impl.plugin)
            register = self._register_into(found, base, plugin_name, hook_name)
            args = {"register": register, **kwargs}
            impl.function(**{name: args[name] for name in impl.argnames})
        return found

    @staticmethod
    def _register_into(
        found: dict[str, Registered], base: type, plugin_name: str, hook_name: str
    ) -> Callable[[Any], None]:
        def register(obj: Any) -> None:
            if not isinstance(obj, base):
                raise PluginError(f"plugin {plugin_name!r} registered {obj!r} in {hook_name}; expected a {base.__name__}")
            name = getattr(obj, "name", None)
            if not isinstance(name, str) or not name:
                raise PluginError(f"plugin {plugin_name!r} registered a {base.__name__} without a name")
            if name in found:
                raise PluginError(
                    f"{base.__name__.lower()} {name!r} is registered by both {found[name].plugin!r} and "
                    f"{plugin_name!r}; uninstall one or restrict plugins with {LOAD_ENV}"
                )
            found[name] = Registered(name, plugin_name, obj)

        return register

    @property
    def adds_segments(self) -> bool:
        """Whether any plugin implements ``extra_segments`` (else indexing skips the call)."""
        return bool(self.pm.hook.extra_segments.get_hookimpls())

    def extra_segments(self, source: Source, modality: str, segment: Segment) -> list[Segment]:
        """The segments plugins derive from ``segment`` (the ``extra_segments`` hook), checked."""
        try:
            results = self.pm.hook.extra_segments(source=source, modality=modality, segment=segment, settings=self.settings)
        except MMSearchError:
            raise
        except Exception as exc:  # noqa: BLE001 - a plugin failing on one file fails that file only
            raise ExtractError(source.relpath, f"extra segments failed: {describe_exception(exc)}") from exc
        out: list[Segment] = []
        for result in results:
            for extra in result or ():
                if not isinstance(extra, Segment):
                    raise PluginError(f"an extra_segments plugin returned {type(extra).__name__}, not a Segment")
                out.append(extra)
        return out

    def modality_for(self, path: Any) -> Modality | None:
        for entry in self.modalities.values():
            if entry.obj.accepts(path):
                return entry.obj
        return None


def describe_plugins(pm: PluginManager, registry: Registry) -> list[dict[str, Any]]:
    """What ``mmsearch plugins`` prints: each plugin, its hooks and what it registered."""
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda np: np[0]):
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        rows.append(
            {
                "name": name,
                "hooks": hooks,
                "distribution": pm.versions.get(name),
                "modalities": sorted(r.name for r in registry.modalities.values() if r.plugin == name),
                "embedders": sorted(r.name for r in registry.embedders.values() if r.plugin == name),
                "fusers": sorted(r.name for r in registry.fusers.values() if r.plugin == name),
            }
        )
    return rows
