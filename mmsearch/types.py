"""Frozen dataclasses that cross module and plugin boundaries."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Payload kinds the core knows. Plugins may add their own (e.g. ``"audio"``).
IMAGE = "image"
TEXT = "text"


def _clock(seconds: float, up: bool = False) -> str:
    # Starts round down and ends round up, so the shown range covers what the #t= link seeks to.
    minutes, secs = divmod(int(math.ceil(seconds) if up else math.floor(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


@dataclass(frozen=True)
class Locator:
    """Where a segment lies inside its media. Unused fields stay ``None``."""

    start: float | None = None  # seconds, for audio and video
    end: float | None = None
    char_start: int | None = None  # character offsets, for text
    char_end: int | None = None
    page: int | None = None  # 1-based, as people say it
    #: The region the segment covers (OCR'd text), as fractions of the image or page:
    #: (left, top, right, bottom), each 0-1, origin top left. Resolution-independent.
    box: tuple[float, float, float, float] | None = None

    def describe(self) -> str:
        """A short human form: ``@ 01:23–01:31``, ``chars 0–812``, ``p. 3`` or ``""``."""
        parts = []
        if self.start is not None:
            span = _clock(self.start)
            if self.end is not None and self.end > self.start:
                span += f"–{_clock(self.end, up=True)}"
            parts.append(f"@ {span}")
        if self.page is not None:
            parts.append(f"p. {self.page}")
        if self.char_start is not None:
            parts.append(f"chars {self.char_start}–{self.char_end}")
        return " ".join(parts)

    def fragment(self) -> str:
        """A deep-link fragment: ``#t=83.2`` (media fragments) for time-based locators, ``#page=212``
        (PDF open parameters, understood by browsers' and desktop PDF viewers) for pages, else ``""``."""
        if self.start is not None:
            return f"#t={self.start:g}"
        return f"#page={self.page}" if self.page is not None else ""

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        if self.box is not None:
            data["box"] = [round(v, 4) for v in self.box]
        return data


@dataclass(frozen=True)
class Segment:
    """One retrievable unit of a media, produced by ``Modality.extract``.

    ``payload`` is what the embedder receives: a ``PIL.Image.Image`` for kind ``image``,
    a ``str`` for kind ``text``. ``text`` is what is shown as evidence and searched by keyword.
    """

    kind: str
    payload: Any
    locator: Locator = field(default_factory=Locator)
    text: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    """A file handed to ``Modality.extract``."""

    path: Path  # absolute path on disk
    relpath: str  # path relative to its library root, POSIX separators
    size: int
    mime: str | None = None


@dataclass(frozen=True)
class Space:
    """An embedding space. Vectors compare only inside one space."""

    embedder: str
    model: str
    dim: int
    kinds: frozenset[str]

    @property
    def key(self) -> str:
        return f"{self.embedder}:{self.model}"


@dataclass(frozen=True)
class Evidence:
    """A segment that supports a hit, with the leg that found it."""

    segment_id: int
    kind: str
    locator: Locator
    text: str | None
    leg: str
    score: float
    raw_score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment_id": self.segment_id,
            "kind": self.kind,
            "locator": self.locator.to_dict(),
            "text": self.text,
            "leg": self.leg,
            "score": round(self.score, 6),
            "raw_score": round(self.raw_score, 6),
        }


@dataclass(frozen=True)
class Hit:
    """One search result: a media file, its fused score and the evidence for it."""

    media_id: int
    path: str  # relative to its library root
    abspath: str
    modality: str
    score: float
    evidence: tuple[Evidence, ...] = ()
    legs: Mapping[str, float] = field(default_factory=dict)

    def __hash__(self) -> int:
        # ``legs`` is a dict, which made every Hit unhashable (no set of hits, no dict keyed by
        # them); equal hits have equal ids, paths and scores.
        return hash((self.media_id, self.path, self.score))

    @property
    def best(self) -> Evidence | None:
        return self.evidence[0] if self.evidence else None

    def link(self) -> str:
        """The file path with a time fragment when the best evidence has one."""
        return self.abspath + (self.best.locator.fragment() if self.best else "")

    def explain(self) -> str:
        """The legs that found this media, with calibrated scores, and each evidence segment."""
        lines = [f"{self.path}  score={self.score:.4f}  ({self.modality})"]
        lines += [f"  leg {leg}: {score:.4f}" for leg, score in self.legs.items()]
        for ev in self.evidence:
            where = " ".join(filter(None, [ev.kind, ev.locator.describe()]))
            text = f' "{" ".join(ev.text.split())[:80]}"' if ev.text else ""
            lines.append(f"  evidence {where} via {ev.leg}: score={ev.score:.4f} raw={ev.raw_score:.4f}{text}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready. A name whose bytes are not UTF-8 cannot travel in JSON as it is: ``abspath``
        then spells them ``\\xNN`` (as ``path`` does) and ``abspath_bytes`` holds the exact bytes,
        percent-encoded (``urllib.parse.unquote_to_bytes`` gives them back), as over HTTP."""
        from urllib.parse import quote

        from .paths import encode_relpath, not_utf8

        undecodable = not_utf8(self.abspath)
        return {
            "path": self.path,
            "abspath": encode_relpath(self.abspath) if undecodable else self.abspath,
            **({"abspath_bytes": quote(os.fsencode(self.abspath))} if undecodable else {}),
            "modality": self.modality,
            "score": round(self.score, 6),
            "legs": {k: round(v, 6) for k, v in self.legs.items()},
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class FileReport:
    """What happened to one file during an indexing run."""

    path: str
    action: str  # added | updated | unchanged | removed | renamed | failed; "working" in progress callbacks only
    error: str | None = None
    segments: int = 0


@dataclass(frozen=True)
class IndexSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    renamed: int = 0
    failed: int = 0
    skipped: int = 0  # files no modality reads
    segments: int = 0
    seconds: float = 0.0  # the whole run, model loading included
    failures: tuple[FileReport, ...] = ()
    load_seconds: float = 0.0  # of ``seconds``, spent loading models (0 when none was needed)
    #: of ``unchanged``, files that failed in an earlier run and were not tried again (unchanged
    #: since; ``retry_failed`` tries them): ``failed == 0`` alone does not mean all is indexed
    still_failing: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        # "action": "failed" (a file that could not be read) or "skipped" (deliberately not indexed)
        data["failures"] = [{"path": f.path, "error": f.error, "action": f.action} for f in self.failures]
        data["seconds"] = round(self.seconds, 3)
        data["load_seconds"] = round(self.load_seconds, 3)
        return data


@dataclass(frozen=True)
class Status:
    index_dir: str
    db_url: str
    media: Mapping[str, int]  # indexed media per modality
    segments: int
    failures: tuple[FileReport, ...]
    spaces: tuple[Mapping[str, Any], ...]
    roots: tuple[str, ...]
    db_bytes: int | None  # SQLite: the file with its -wal and -shm; None for a server database
    vector_bytes: int

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["failures"] = [{"path": f.path, "error": f.error} for f in self.failures]
        data["media"] = dict(self.media)
        data["spaces"] = [dict(s) for s in self.spaces]
        return data
