"""The base class a modality plugin subclasses. Authors implement :meth:`Modality.extract`."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from .errors import ExtractError, MMSearchError, ModelUnavailableError, PluginError
from .segment_check import is_empty_text, problem
from .settings import Settings, env_name
from .types import Segment, Source


class Modality(ABC):
    """Turns one file into segments.

    Subclasses set ``name``, ``extensions`` (lower-case, with the dot) and ``kinds`` (the payload
    kinds they yield), and implement :meth:`extract`. Raise any exception for a file that cannot be
    read (``SystemExit`` and a :class:`ConfigError` included); the base class turns it into an
    :class:`ExtractError` naming the file, the modality and its plugin, and the indexing run
    records it and goes on. Only :class:`ModelUnavailableError` stops the run: a model that is not
    installed would fail every file of the kind, one by one, with the same reason.
    """

    name: ClassVar[str]
    extensions: ClassVar[frozenset[str]] = frozenset()
    kinds: ClassVar[frozenset[str]]
    #: True when extract() yields lazily from a long stream (audio, video): the pipeline then
    #: embeds its segments in chunks as they come, so memory stays flat as duration grows.
    streaming: ClassVar[bool] = False
    #: The third-party plugin that registered this modality (set by the registry; None for built-in
    #: ones): its failures name it, so that a user with several plugins knows which one to blame.
    plugin: str | None = None

    @property
    def label(self) -> str:
        """How errors name this modality: ``modality 'gpx' (plugin mmsearch_gpx)``."""
        name = getattr(self, "name", type(self).__name__)
        return f"modality {name!r}" + (f" (plugin {self.plugin})" if self.plugin else "")

    def accepts(self, path: Path) -> bool:
        """Whether this modality reads ``path``. The default matches the file extension."""
        return path.suffix.lower() in self.extensions

    @property
    def _blame(self) -> str:
        """The prefix of a third-party modality's failures; built-in ones (which the registry leaves
        without ``plugin``) keep their plain reasons, which name the file and what to change."""
        return f"{self.label}: " if self.plugin else ""

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
        except ModelUnavailableError as exc:
            # Every file of this kind would fail the same way: stop, naming who needs the model.
            raise ModelUnavailableError(f"{self.label} on {source.relpath}: {exc}") from exc
        except (ExtractError, PluginError):
            raise  # already names the file or the modality
        except MMSearchError as exc:  # a ConfigError raised for one file is that file's failure
            raise ExtractError(source.relpath, f"{self._blame}{exc}") from exc
        except Exception as exc:  # noqa: BLE001 - any decoder failure is the file's, not ours
            raise ExtractError(source.relpath, f"{self._blame}{describe_exception(exc)}") from exc
        except SystemExit as exc:
            # A decoder wrapping a command-line tool calls sys.exit(): that ended the whole run
            # silently (exit 3, files read before it lost). It is this file's failure.
            raise ExtractError(source.relpath, f"{self.label}: called sys.exit({exc.code!r})") from exc
        except KeyboardInterrupt as exc:
            # Ctrl-C reaches the main thread only: off it, a KeyboardInterrupt is the plugin's own.
            if threading.current_thread() is threading.main_thread():
                raise
            raise ExtractError(source.relpath, f"{self.label}: raised KeyboardInterrupt") from exc


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
