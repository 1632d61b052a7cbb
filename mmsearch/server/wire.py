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


def query_from_wire(data: dict[str, Any], uploads: list[str]) -> Query:
    """The inverse of :func:`query_to_wire`; ``uploads`` are the server's saved copies of the files.
    A file part must name an upload: a client never names a file on the server's disk."""
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
        f = data.get("filters") or {}
        filters = Filters(frozenset(f.get("types") or ()), f.get("path"), _date(f.get("after")), _date(f.get("before")),
                          f.get("min_size"), f.get("max_size"), f.get("title"), f.get("author"))
    except (KeyError, TypeError, ValueError) as exc:
        raise QueryError(f"malformed query JSON ({exc}); send {{'parts': [...], 'filters': {{...}}}}") from None
    return Query(tuple(parts), filters)


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
