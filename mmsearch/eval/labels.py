"""The labelled-set file format (JSONL, one query per line) and its loader.

Each non-blank line is one JSON object::

    {"id": "cat-1", "query": "a cat on a sofa", "relevant": ["photos/cat.png"]}
    {"id": "talk-3", "query": "the weather tomorrow", "relevant": [{"path": "talk.mp3", "t": [12.0, 15.5]}]}
    {"id": "doc-2", "query": "tax deadlines", "relevant": [{"path": "guide.pdf", "page": 3}]}
    {"id": "no-1", "query": "a submarine", "kind": "absent"}
    {"id": "gib-1", "query": "vorple quandish", "kind": "gibberish"}

* ``query`` (required): the query text, in the query language of ``mmsearch search``.
* ``relevant``: the files that answer it, as paths relative to the library root (the folder given to
  ``mmsearch index``), each a string or an object with ``path`` and optionally ``t`` (``[t0, t1]``
  seconds, for timed media: the hit's evidence must start inside the range, give or take
  ``--time-slack``) or ``page``.
* ``kind``: ``"query"`` (the default) needs ``relevant``; any other kind (``"absent"``,
  ``"gibberish"``, or a name of your own) marks a query with *no* relevant file, used to measure false
  alarms. ``id`` is optional (default: ``line-N``); any other keys are kept as ``meta``.
* Lines starting with ``#`` are comments.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MMSearchError

#: The kind of a query that has relevant files; every other kind is an absent-answer query.
ANSWERED = "query"
KNOWN_KEYS = frozenset({"id", "query", "relevant", "kind"})


class LabelError(MMSearchError):
    """A labelled-set file cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Relevant:
    """One right answer: a file (relative to the library root), optionally a time range or a page."""

    path: str
    t0: float | None = None
    t1: float | None = None
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        if self.t0 is not None:
            out["t"] = [self.t0, self.t1]
        if self.page is not None:
            out["page"] = self.page
        return out


@dataclass(frozen=True)
class LabelledQuery:
    id: str
    query: str
    relevant: tuple[Relevant, ...] = ()
    kind: str = ANSWERED
    meta: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0

    @property
    def absent(self) -> bool:
        """True for a query with no right answer in the library (any hit above the cut is a false alarm)."""
        return self.kind != ANSWERED


@dataclass(frozen=True)
class LabelledSet:
    path: str
    queries: tuple[LabelledQuery, ...]

    @property
    def answered(self) -> tuple[LabelledQuery, ...]:
        return tuple(q for q in self.queries if not q.absent)

    @property
    def absent(self) -> tuple[LabelledQuery, ...]:
        return tuple(q for q in self.queries if q.absent)


def load(path: str | os.PathLike[str]) -> LabelledSet:
    """Read a labelled set; a bad line raises :class:`LabelError` naming the file and line."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise LabelError(f"{file}: cannot read the labelled set ({exc.strerror or exc}); give the path of a .jsonl file") from exc
    except UnicodeDecodeError as exc:
        raise LabelError(f"{file}: not UTF-8 text; a labelled set is JSONL, one JSON object per line") from exc
    queries: list[LabelledQuery] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            query = parse_line(stripped, number)
        except ValueError as exc:
            raise LabelError(f"{file}:{number}: {exc}") from None
        if query.id in seen:
            raise LabelError(f"{file}:{number}: id {query.id!r} already used on line {seen[query.id]}; ids must be unique")
        seen[query.id] = number
        queries.append(query)
    if not queries:
        raise LabelError(f"{file}: no queries; write one JSON object per line (see `mmsearch eval --help`)")
    return LabelledSet(str(file), tuple(queries))


def parse_line(line: str, number: int = 0) -> LabelledQuery:
    """One JSONL line → a query. ``ValueError`` says what is wrong (the caller adds file and line)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:  # json's decoder recurses per nested [ or {: thousands crashed eval
        raise ValueError("JSON nested too deeply to read; a labelled query needs only a flat object "
                         "like {\"query\": \"a cat\", \"relevant\": [\"cat.png\"]}") from None
    if not isinstance(obj, dict):
        raise ValueError("each line must be a JSON object like {\"query\": \"a cat\", \"relevant\": [\"cat.png\"]}")
    query = obj.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ValueError("\"query\" must be a non-empty string")
    kind = obj.get("kind", ANSWERED)
    if not isinstance(kind, str) or not kind:
        raise ValueError("\"kind\" must be a string such as \"query\", \"absent\" or \"gibberish\"")
    relevant_raw = obj.get("relevant", [])
    if isinstance(relevant_raw, (str, dict)):
        relevant_raw = [relevant_raw]
    if not isinstance(relevant_raw, list):
        raise ValueError("\"relevant\" must be a list of paths or {\"path\": ..., \"t\": [t0, t1]} objects")
    relevant = tuple(_relevant(item) for item in relevant_raw)
    if kind == ANSWERED and not relevant:
        raise ValueError("a query needs \"relevant\" files; mark a query with no answer \"kind\": \"absent\"")
    if kind != ANSWERED and relevant:
        raise ValueError(f"a query of kind {kind!r} has no right answer, so it cannot list \"relevant\" files")
    qid = obj.get("id", f"line-{number}")
    if not isinstance(qid, (str, int)):
        raise ValueError("\"id\" must be a string")
    meta = {k: v for k, v in obj.items() if k not in KNOWN_KEYS}
    return LabelledQuery(str(qid), query, relevant, kind, meta, number)


def _relevant(item: object) -> Relevant:
    if isinstance(item, str):
        item = {"path": item}
    if not isinstance(item, dict):
        raise ValueError("each relevant entry must be a path or an object with \"path\"")
    path = item.get("path")
    if not isinstance(path, str) or not path.strip():
        raise ValueError("a relevant entry needs \"path\", relative to the library root")
    if path.startswith("/") or "\\" in path:
        raise ValueError(f"relevant path {path!r} must be relative to the library root, with / separators")
    t0 = t1 = None
    if "t" in item:
        span = item["t"]
        if (not isinstance(span, list) or len(span) != 2 or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in span)
                or span[0] < 0 or span[1] < span[0]):
            raise ValueError(f"\"t\" of {path!r} must be [t0, t1] in seconds with 0 <= t0 <= t1")
        t0, t1 = float(span[0]), float(span[1])
    page = item.get("page")
    if page is not None and (not isinstance(page, int) or isinstance(page, bool) or page < 1):
        raise ValueError(f"\"page\" of {path!r} must be a page number (1 or more)")
    return Relevant(path.strip().removeprefix("./"), t0, t1, page)
