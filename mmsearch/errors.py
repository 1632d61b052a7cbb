"""Errors a user may see. Every message says what went wrong and what to do about it."""

from __future__ import annotations


class MMSearchError(Exception):
    """Base class: the CLI prints ``str(error)`` on one line and exits non-zero."""


class ConfigError(MMSearchError):
    """A setting, flag or environment variable has an unusable value."""


class IndexGoneError(MMSearchError):
    """The index database was deleted or replaced under a process that had it open."""


class PluginError(MMSearchError):
    """A plugin broke the contract (duplicate name, wrong type, misspelt hook)."""


class SchemaError(MMSearchError):
    """The index database was written by another version of mmsearch."""


class SpaceMismatchError(MMSearchError):
    """The index was built with another model than the one asked for."""


class ModelUnavailableError(MMSearchError):
    """Weights for a model cannot be found here and cannot be downloaded."""


class ExtractError(MMSearchError):
    """A file could not be read by its modality. Recorded per file; never aborts a run."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class EmbedError(MMSearchError):
    """An embedder returned something other than a float32 (n, dim) array."""


class QueryError(MMSearchError):
    """A search query could not be understood or run."""


class ArgumentError(MMSearchError, TypeError):
    """An ``Engine`` method was given an argument of the wrong type (a ``TypeError`` too)."""
