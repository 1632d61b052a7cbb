"""The base class a modality plugin subclasses. Authors implement :meth:`Modality.extract`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from .errors import ConfigError, ExtractError, MMSearchError, ModelUnavailableError, PluginError
from .segment_check import is_empty_text, problem
from .settings import Settings, env_name
from .types import Segment, Source


class Modality(ABC):
    """Turns one file into segments.

    Subclasses set ``name``, ``extensions`` (lower-case, with the dot) and ``kinds`` (the payload
    kinds they yield), and implement :meth:`extract`. Raise any exception for a file that cannot be
    read; the base class turns it into an :class:`ExtractError` naming the file, and the indexing
    run records it and goes on.
    """

    name: ClassVar[str]
    extensions: ClassVar[frozenset[str]] = frozenset()
    kinds: ClassVar[frozenset[str]]
    #: True when extract() yields lazily from a long stream (audio, video): the pipeline then
    #: embeds its segments in chunks as they come, so memory stays flat as duration grows.
    streaming: ClassVar[bool] = False

    def accepts(self, path: Path) -> bool:
        """Whether this modality reads ``path``. The default matches the file extension."""
        return path.suffix.lower() in self.extensions

    @abstractmethod
    def extract(self, source: Source) -> Iterator[Segment]:
        """Yield the segments of ``source``, in order."""

    def segments(self, source: Source) -> Iterator[Segment]:
        """:meth:`extract`, with the checks of segment_check.py and errors that name the file;
        blank text segments are dropped."""
        try:
            for segment in self.extract(source):
                if not isinstance(segment, Segment):
                    raise PluginError(f"modality {self.name!r} yielded {type(segment).__name__}, not a Segment")
                if segment.kind not in self.kinds:
                    raise PluginError(
                        f"modality {self.name!r} yielded a {segment.kind!r} segment but declares kinds {sorted(self.kinds)}"
                    )
                reason = problem(segment)
                if reason:
                    raise PluginError(f"modality {self.name!r} yielded a segment the index cannot hold: {reason}")
                if not is_empty_text(segment):
                    yield segment
        except (ExtractError, PluginError, ModelUnavailableError, ConfigError):
            raise  # a missing model or bad setting is the run's problem, not this file's
        except MMSearchError as exc:
            raise ExtractError(source.relpath, str(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - any decoder failure is the file's, not ours
            raise ExtractError(source.relpath, describe_exception(exc)) from exc


def over_size_limit(settings: Settings, modality: Modality, size: int, what: str = "to index it") -> str | None:
    """Why a file of ``size`` bytes is too big for ``modality``, or None. ``<modality>.max_bytes``
    (0: no limit) bounds the work one file may cause, indexed or given as a search example; a
    modality may set its own default as ``max_bytes``."""
    key = f"{modality.name}.max_bytes"
    limit = settings.get_int(key, int(getattr(modality, "max_bytes", 0) or 0))
    if limit <= 0 or size <= limit:
        return None
    return (f"{size / 2**20:.1f} MB is over the {modality.name} limit of {limit / 2**20:.1f} MB; "
            f"raise the setting {key} (env {env_name(key)}) {what}")


def describe_exception(exc: BaseException) -> str:
    """One line for the user. ValueError is how plugins state a reason; others keep their type."""
    text = " ".join(str(exc).split()) or "no details"
    return text if type(exc) is ValueError else f"{type(exc).__name__}: {text}"
