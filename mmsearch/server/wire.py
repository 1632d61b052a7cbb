"""What crosses the wire between the CLI and a server: a Query and Hits as JSON-safe dicts.

The CLI parses the query itself (so errors and file resolution are exactly the in-process ones),
then sends the parsed parts; example files travel as uploads, named ``upload:N`` here. Hits come
back with unrounded floats so the client rebuilds the very Hit objects the engine returned.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any
from urllib.parse import unquote_to_bytes

from ..errors import QueryError
from ..paths import surrogates
from ..search.query import FILE, Filters, Query, QueryPart
from ..types import Evidence, Hit, Locator

UPLOAD = "upload:"


def query_to_wire(query: Query) -> tuple[dict[str, Any], list[str]]:
    """The query as a dict, and the local files to upload in the order ``upload:N`` names them."""
    files: list[str] = []
    parts = []
    for part in query.parts:
        value = part.value
        if part.kind == FILE:
            value = f"{UPLOAD}{len(files)}"
            files.append(part.value)
        parts.append({"kind": part.kind, "value": value, "weight": part.weight})
    f = query.filters
    filters = {"types": sorted(f.types), "path": f.path, "after": _iso(f.after), "before": _iso(f.before),
               "min_size": f.min_size, "max_size": f.max_size, "title": f.title, "author": f.author}
    return {"parts": parts, "filters": filters}, files


def query_from_wire(data: Any, uploads: list[str]) -> Query:
    """The inverse of :func:`query_to_wire`; ``uploads`` are the server's saved copies of the files.
    A file part must name an upload: a client never names a file on the server's disk."""
    shape = "send {'parts': [{'kind': 'text', 'value': '…', 'weight': 1.0}, …], 'filters': {…}}"
    if _holds_surrogate(data):  # JSON allows "\\ud800"; no path, name or answer can hold it
        raise QueryError("the query JSON holds a lone surrogate (such as \\ud800), which is no character; send valid UTF-8 text")
    # The shape is checked here, so that a wrong one is named in the client's terms, not Python's
    # ("'int' object is not iterable" for {"parts": 5}).
    if not isinstance(data, dict) or not isinstance(data.get("parts"), list) or not all(isinstance(p, dict) for p in data["parts"]):
        raise QueryError(f"malformed query JSON: 'parts' must be a list of objects; {shape}")
    f = data.get("filters") or {}
    if not isinstance(f, dict):
        raise QueryError(f"malformed query JSON: 'filters' must be an object; {shape}")
    try:
        parts = []
        for raw in data["parts"]:
            kind, value, weight = str(raw["kind"]), str(raw["value"]), float(raw["weight"])
            if kind == FILE:
                index = int(value.removeprefix(UPLOAD)) if value.startswith(UPLOAD) else -1
                if not 0 <= index < len(uploads):
                    raise QueryError(f"query part {value!r} names no uploaded file; send example files as uploads")
                value = uploads[index]
            parts.append(QueryPart(kind, value, weight))
        types = f.get("types") or []
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise QueryError(f"malformed query JSON: filters.types must be a list of modality names; {shape}")
        filters = Filters(frozenset(types), f.get("path"), _date(f.get("after")), _date(f.get("before")),
                          f.get("min_size"), f.get("max_size"), f.get("title"), f.get("author"))
    except KeyError as exc:
        raise QueryError(f"malformed query JSON: a part lacks {exc}; {shape}") from None
    except (TypeError, ValueError) as exc:
        raise QueryError(f"malformed query JSON ({exc}); {shape}") from None
    return Query(tuple(parts), filters)


def _holds_surrogate(data: Any) -> bool:
    if isinstance(data, str):
        return surrogates(data)
    if isinstance(data, dict):
        return any(_holds_surrogate(k) or _holds_surrogate(v) for k, v in data.items())
    if isinstance(data, list):
        return any(_holds_surrogate(v) for v in data)
    return False


def hit_from_wire(data: dict[str, Any]) -> Hit:
    evidence = tuple(
        Evidence(int(e["segment_id"]), e["kind"], _locator(e["locator"]), e.get("text"), e["leg"], float(e["score"]),
                 float(e["raw_score"]))
        for e in data["evidence"]
    )
    return Hit(int(data["media_id"]), data["path"], _abspath(data), data["modality"], float(data["score"]), evidence,
               {k: float(v) for k, v in data["legs"].items()})


def _abspath(data: dict[str, Any]) -> str:
    """The OS path as the engine had it: a name that is not UTF-8 travels as percent-encoded bytes."""
    raw = data.get("abspath_bytes")
    return os.fsdecode(unquote_to_bytes(raw)) if raw else data["abspath"]


def _locator(data: dict[str, Any]) -> Locator:
    box = data.get("box")  # JSON has no tuples; the Locator the engine made holds one
    return Locator(**{**data, "box": tuple(box)}) if box is not None else Locator(**data)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
