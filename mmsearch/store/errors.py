"""Errors of the storage layer a user may see: each says what happened and what to do."""

from __future__ import annotations

from ..errors import MMSearchError


class IndexLockedError(MMSearchError):
    """Another process held the index's writer lock for longer than ``lock_timeout``."""


class ReadOnlyIndexError(MMSearchError):
    """A write was asked of an index whose directory or database cannot be written."""


class StorageError(MMSearchError):
    """The database cannot be read or written: damaged file, full disk."""


class WriterLockLostError(MMSearchError):
    """The PostgreSQL writer lock vanished mid-run (its connection closed): writing stopped."""
