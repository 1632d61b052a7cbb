"""Settings in layers: defaults < ``mmsearch.toml`` in the index directory < ``MMSEARCH_*`` env < flags.

Keys are dotted (``clip.weights``); the environment spells them ``MMSEARCH_CLIP_WEIGHTS``.
"""

from __future__ import annotations

import difflib
import math
import os
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

SETTINGS_FILE = "mmsearch.toml"

DEFAULTS: Mapping[str, Any] = {
    "batch_size": 32,
    "workers": 0,  # 0: one decode thread per core
    "device": "auto",
    "max_image_pixels": 100_000_000,
    # What one file may cost (0: no limit); a file over one fails with a reason naming the setting.
    "max_segments": 100_000,  # a plugin yielding forever grew memory until the machine ran out
    "max_segment_chars": 1_000_000,  # a 12 MB segment came back in full in every search result
    "extract_timeout": 0,  # seconds to read one file; off by default: a long film may take an hour
    "text.chunk_chars": 1000,
    "text.chunk_overlap": 200,
    "vectors.backend": "auto",  # auto | flat | ivf | torch | faiss-gpu (see mmsearch.vectors.backends)
}


#: The keys mmsearch and its bundled plugins read, by TOML section ("": the top level). The README
#: ("Typed settings") promises that a typo stops the index from opening with the known keys listed;
#: these sections are not declared through register_settings, so they are listed here. Any section
#: may also hold ``max_bytes`` (the per-modality size limit, see mmsearch.modality.over_size_limit).
BUILTIN_KEYS: Mapping[str, frozenset[str]] = {
    "": frozenset({"embedders", "workers", "batch_size", "device", "max_image_pixels", "follow_symlinks", "lock_timeout",
                   "db", "index", "index_dir", "executor", "offline", "models", "ocr"}),
    "vectors": frozenset({"backend"}),
    "text": frozenset({"chunk_chars", "chunk_overlap"}),
    "search": frozenset({"min_score"}),
    "ray": frozenset({"address", "workers", "cpus_per_worker", "gpus_per_worker", "files_per_batch", "data"}),
    "image": frozenset({"max_pages"}),
    "pdf": frozenset({"max_pages", "image_below_chars", "render_dpi"}),
    "ocr": frozenset({"mode", "modalities", "lang", "min_confidence"}),
    "clip": frozenset({"model", "pretrained", "weights", "text_runtime", "image_runtime", "export_dir", "cache_dir", "device",
                       "precision", "offline", "batch_size", "threads"}),
    "lite": frozenset({"runtime", "mode", "projection", "device"}),
    "audio": frozenset({"backend", "model", "compute_type", "device", "language", "cache_dir", "allow_download", "beam_size",
                        "no_speech_threshold", "threads", "vad", "max_pause", "window_seconds"}),
    "video": frozenset({"min_interval", "max_interval", "transcribe", "transcriber", "scene_threshold", "dedup_threshold",
                        "blank_threshold", "analysis_fps", "max_side"}),
}


def env_name(key: str) -> str:
    return "MMSEARCH_" + key.upper().replace(".", "_").replace("-", "_")


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def invalid(key: str, value: Any, wanted: str, origin: str | None = None) -> ConfigError:
    """The error for a setting with an unusable value, naming where it was given (``origin``,
    from :meth:`Settings.origin`) or, unknown, every place it can be given."""
    where = origin or f"{SETTINGS_FILE}, --set or env {env_name(key)}"
    return ConfigError(f"setting {key!r} ({where}) must be {wanted}, got {value!r}")


def parse_bool(key: str, value: Any, origin: str | None = None) -> bool:
    """True/false from TOML booleans or the strings environment variables carry."""
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise invalid(key, value, "true or false", origin)


def parse_float(key: str, value: Any, low: float = float("-inf"), high: float = float("inf"), origin: str | None = None) -> float:
    """A number within [low, high], from TOML or an environment string."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise invalid(key, value, "a number", origin) from None
    if not low <= number <= high:
        raise invalid(key, value, f"between {low:g} and {high:g}", origin)
    return number


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@dataclass(frozen=True)
class Setting:
    """One typed key a plugin declares: its type (``int``, ``float``, ``bool`` or ``str``), the
    default it applies when the key is unset, and a line of help."""

    type: type
    default: Any = None
    help: str = ""

    def parse(self, key: str, value: Any, origin: str | None = None) -> Any:
        """``value`` (from TOML, a flag or an environment string) as :attr:`type`, or a ConfigError."""
        if self.type is bool:
            return parse_bool(key, value, origin)
        if self.type is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise invalid(key, value, "a whole number", origin)
            try:
                return int(value)
            except (TypeError, ValueError):
                raise invalid(key, value, "a whole number", origin) from None
        if self.type is float:
            if isinstance(value, bool):
                raise invalid(key, value, "a number", origin)
            return parse_float(key, value, origin=origin)
        if not isinstance(value, str):
            raise invalid(key, value, f"a {self.type.__name__}", origin)
        return value


@dataclass(frozen=True)
class SettingsSection:
    """The settings a plugin owns: ``name`` is the TOML table (``[bow]``) and the key prefix
    (``bow.dim``, env ``MMSEARCH_BOW_DIM``); ``keys`` maps each key to its :class:`Setting`.
    Once declared, a key in that table that is not listed, or a value of the wrong type, stops
    the index from opening with the known keys listed, instead of being silently ignored."""

    name: str
    keys: Mapping[str, Setting] = field(default_factory=dict)


class Settings:
    """Read-only view over the layers; plugins read their own keys with :meth:`get`."""

    def __init__(
        self,
        file_values: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._file = dict(file_values or {})
        self.source: Path | None = None  # the mmsearch.toml the file layer came from
        self._overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        self._environ = os.environ if environ is None else environ

    @classmethod
    def load(cls, index_dir: Path | None, overrides: Mapping[str, Any] | None = None) -> Settings:
        file_values: dict[str, Any] = {}
        if index_dir is not None:
            path = index_dir / SETTINGS_FILE
            if path.is_file():
                try:
                    file_values = _flatten(tomllib.loads(path.read_text("utf-8")))
                except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                    raise ConfigError(f"{path}: not valid TOML ({exc}); fix or delete the file") from exc
                except RecursionError:  # tomllib recurses per nested array or table: deep nesting crashed every command
                    raise ConfigError(f"{path}: not valid TOML (arrays or tables nested too deeply to read); "
                                      "fix or delete the file") from None
        settings = cls(file_values, overrides)
        if file_values:
            settings.source = index_dir / SETTINGS_FILE  # type: ignore[operator]
        return settings

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._overrides:
            return self._overrides[key]
        env = self._environ.get(env_name(key))
        if env is not None:
            return env
        if key in self._file:
            return self._file[key]
        return DEFAULTS.get(key, default)

    def origin(self, key: str) -> str:
        """Where :meth:`get` finds ``key``: what an error about its value should point to."""
        if key in self._overrides:
            return f"given with --set, a flag or Engine.open(settings=); env {env_name(key)}"
        if self._environ.get(env_name(key)) is not None:
            return f"env {env_name(key)}"
        if key in self._file:
            return f"in {self.source or SETTINGS_FILE}"
        return "its default"

    def get_int(self, key: str, default: int | None = None, low: int | None = None) -> int:
        """A whole number, at least ``low`` when given (``batch_size = 0`` was taken silently)."""
        value = self.get(key, default)
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise invalid(key, value, "a whole number", self.origin(key)) from None
        if low is not None and number < low:
            raise invalid(key, value, f"a whole number of at least {low}", self.origin(key))
        return number

    def get_score(self, key: str, default: float) -> float:
        """A calibrated-score setting (``search.min_score``): a number from 0 to 1."""
        value = self.get(key, default)
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not 0.0 <= number <= 1.0:  # NaN fails this too
            raise invalid(key, value, "a number from 0 to 1", self.origin(key))
        return number

    def get_bool(self, key: str, default: bool = False) -> bool:
        return parse_bool(key, self.get(key, default), self.origin(key))

    def with_overrides(self, **overrides: Any) -> Settings:
        merged = {**self._overrides, **{k: v for k, v in overrides.items() if v is not None}}
        settings = Settings(self._file, merged, self._environ)
        settings.source = self.source
        return settings

    def typed(self, key: str, setting: Setting) -> Any:
        """A declared key's value, parsed as its type; the declared default when unset."""
        value = self.get(key)
        return setting.default if value is None else setting.parse(key, value, self.origin(key))

    def check_builtin(self, declared: Collection[str] = ()) -> None:
        """Refuse, when the index opens, what the README says stops it: an unknown key in a built-in
        section (file and flags), a section name one typo away from a known one, and a value a
        built-in key cannot take (file, flags and environment), instead of ignoring the typo or
        failing every file of the next index run. Sections in ``declared`` (a plugin's own, see
        :meth:`check`) are left to their plugin; other unknown sections too (a plugin may read one)."""
        for key in sorted({**self._file, **self._overrides}):
            # Named where it was given: the file, or Engine.open(settings=...) and flags.
            where = f"{self.source}: " if key not in self._overrides and self.source else ""
            if key in self._overrides:
                where = "settings given to Engine.open() or flags: "
            section, _, name = key.rpartition(".")
            if section in declared or name == "max_bytes" and section:
                continue
            known = BUILTIN_KEYS.get(section)
            if known is None:
                close = difflib.get_close_matches(section, [*BUILTIN_KEYS, *declared], n=1, cutoff=0.8)
                if close and close[0]:
                    raise ConfigError(f"{where}unknown section [{section}] (key {key!r}); did you mean [{close[0]}]? "
                                      f"[{close[0]}] takes: {', '.join(sorted(BUILTIN_KEYS.get(close[0], ())))}")
                continue
            known = known | {k.rpartition(".")[2] for k in DEFAULTS if k.rpartition(".")[0] == section}
            if name not in known:
                table = f"in [{section}]" if section else "at the top level"
                raise ConfigError(f"{where}unknown setting {key!r} {table}; it takes: {', '.join(sorted(known))}")
        for key, check in _VALUE_CHECKS.items():
            check(self, key)
        for key in {k for k in {**self._file, **self._overrides} if k.endswith(".max_bytes")}:
            self.get_int(key, low=0)

    def check(self, sections: Iterable[SettingsSection]) -> None:
        """Refuse unknown keys in a declared section and values of the wrong type (file and flags;
        declared keys from the environment too), naming the keys the section takes."""
        where = f"{self.source}: " if self.source else ""
        for section in sections:
            prefix = section.name + "."
            given = {k: v for k, v in {**self._file, **self._overrides}.items() if k.startswith(prefix)}
            for key in sorted(given):
                if key[len(prefix):] not in section.keys:
                    known = ", ".join(sorted(section.keys)) or "none"
                    raise ConfigError(f"{where}unknown setting {key[len(prefix):]!r} in [{section.name}]; "
                                      f"[{section.name}] takes: {known}")
            for name, setting in section.keys.items():
                self.typed(prefix + name, setting)


def _whole(default: int, low: int) -> Callable[[Settings, str], None]:
    def check(settings: Settings, key: str) -> None:
        settings.get_int(key, default, low=low)
    return check


def _choice(default: str | None, *choices: str) -> Callable[[Settings, str], None]:
    def check(settings: Settings, key: str) -> None:
        value = settings.get(key, default)
        if value is not None and str(value).strip().lower() not in choices:
            raise invalid(key, value, "one of " + ", ".join(repr(c) for c in choices), settings.origin(key))
    return check


def _seconds(settings: Settings, key: str) -> None:
    parse_float(key, settings.get(key, 600), low=0, origin=settings.origin(key))  # NaN fails it too


def _score(settings: Settings, key: str) -> None:
    settings.get_score(key, 0.5)


_OCR_MODES = ("auto", "always", "never")

#: The values of built-in keys checked when an index opens (see Settings.check_builtin); the code
#: that uses each key reads it again, so these only move the error to where it belongs.
_VALUE_CHECKS: Mapping[str, Callable[[Settings, str], None]] = {
    "workers": _whole(0, low=0),
    "batch_size": _whole(32, low=1),
    "max_image_pixels": _whole(100_000_000, low=1),
    "lock_timeout": _seconds,
    "follow_symlinks": _choice("inside", "inside", "all", "none"),
    "executor": _choice("local", "local", "ray"),
    "vectors.backend": _choice("auto", "auto", "flat", "ivf", "torch", "faiss-gpu"),
    "text.chunk_chars": _whole(1000, low=1),
    "text.chunk_overlap": _whole(200, low=0),  # the chunker caps it at half a chunk
    "search.min_score": _score,
    "ocr.mode": _choice("auto", *_OCR_MODES),
    "ocr": _choice(None, *_OCR_MODES),  # the short spelling (MMSEARCH_OCR=never), unset by default
    "pdf.max_pages": _whole(2000, low=1),
    "pdf.render_dpi": _whole(200, low=1),
    "pdf.image_below_chars": _whole(200, low=0),
}
