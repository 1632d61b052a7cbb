"""The query language, shared by the CLI and ``Engine.search("...")``.

    query   := item*
    item    := filter | [sign] [weight ":"] atom | "+"
    filter  := ("type" | "path" | "after" | "before" | "size" | "title" | "author") ":" value
    atom    := '"' text '"' | "file:" path | path-of-an-existing-file | word+
    sign    := "-" (push down) | "+" (a separator; parts are added anyway)

Unquoted words run together into one text part until an operator, a quote, a file or a weight
ends the run: ``red car - night sky`` is "red car" minus "night sky". ``2:"golden retriever"``
weighs a part twice (a weight is a number above 0 and at most 1000, written right before its
part; ``1e3:`` and ``5e-1:`` too). Filters may appear anywhere: ``type:image,video``,
``path:"2024/*"``, ``after:2021``, ``before:2022-06-30`` (dates YYYY[-MM[-DD]], local time;
``after`` includes the day, ``before`` excludes it), ``size:>10MB``, ``size:<=500KB``,
``size:1MB..1GB``, and for documents ``title:"annual report"``, ``author:smith`` (the metadata
contains it, ignoring case). A range that no file can fall in (``after:2022 before:2021``,
``size:10MB..1KB``) is an error, not an empty result.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from ..errors import QueryError
from ..paths import printable
from ..types import TEXT
from .query import CLI_INPUTS, MAX_WEIGHT, Filters, Query, QueryPart, file_part, nothing_to_search

FILTER_KEYS = ("type", "path", "after", "before", "size", "title", "author")
#: A weight's number: decimal, or scientific as ``unparse`` writes a small weight (``1e-05``).
NUMBER = r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_WEIGHT = re.compile(rf"({NUMBER}):(?=[^\s\d])")  # "12:30" stays text
_DANGLING_WEIGHT = re.compile(rf"{NUMBER}:\s*$")  # "cat 2:": a weight with nothing after it
_KEY = re.compile(r"([A-Za-z]+):")
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def error(text: str, pos: int, message: str) -> QueryError:
    """A QueryError naming the column and marking it (``^``) inside the query, on one line
    (a newline or escape sequence in the query is shown escaped)."""
    return QueryError(f"{printable(message)} at column {pos + 1}: {printable(text[:pos])}^{printable(text[pos:])}")


@dataclass
class _State:
    text: str
    parts: list[QueryPart] = field(default_factory=list)
    filters: dict[str, object] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)
    words: list[str] = field(default_factory=list)
    words_weight: float = 1.0
    sign: float = 1.0
    weight: float | None = None
    pending_at: int = -1  # where the pending sign/weight was written, for errors

    def take_weight(self) -> float:
        value = self.sign * (self.weight if self.weight is not None else 1.0)
        self.sign, self.weight, self.pending_at = 1.0, None, -1
        return value

    def flush(self) -> None:
        if self.words and _words(" ".join(self.words)):
            self.parts.append(QueryPart(TEXT, _words(" ".join(self.words)), self.words_weight))
        self.words = []

    def pending(self) -> bool:
        return self.sign != 1.0 or self.weight is not None


def _words(value: str) -> str:
    """Text as searched: runs of whitespace as one space; NUL (which no database column takes
    and no file holds) and other control characters count as whitespace."""
    return " ".join("".join(" " if ord(c) < 32 or c == "\x7f" else c for c in value).split())


def parse(text: str, extra: Sequence[QueryPart] = (), inputs: str = CLI_INPUTS) -> Query:
    """``text`` in the query language, plus ``extra`` parts given beside it (example files from
    ``--image`` or an upload), so a query of filters alone still narrows a search by example.
    ``inputs`` names what a query is made of in the caller's words, for "nothing to search for"."""
    state = _State(text)
    pos, n = 0, len(text)
    while pos < n:
        if text[pos].isspace():
            pos += 1
            continue
        if text[pos] in "+-" and (pos + 1 == n or text[pos + 1].isspace() or text[pos + 1] == '"' or text[pos] == "-"):
            state.flush()
            if text[pos] == "-":
                state.sign, state.pending_at = -state.sign, pos
            pos += 1
            continue
        if _DANGLING_WEIGHT.match(text, pos):
            raise error(text, pos, "a weight is followed by nothing to apply it to; "
                                   'write it right before a part, e.g. 2:"golden retriever"')
        weight = _WEIGHT.match(text, pos)
        if weight:
            state.flush()
            state.weight, state.pending_at = float(weight.group(1)), pos
            if state.weight == 0:
                raise error(text, pos, "a weight of 0 would ignore the part; drop it or use e.g. 0.5:")
            if state.weight > MAX_WEIGHT:  # 1e400 is inf: every score would become inf or NaN
                raise error(text, pos, f"a weight of {weight.group(1)[:20]} is too large; use at most {MAX_WEIGHT:g}")
            pos = weight.end()
            continue
        if text[pos] == '"':
            value, pos = _quoted(text, pos)
            state.flush()
            if _words(value):
                state.parts.append(QueryPart(TEXT, _words(value), state.take_weight()))
            continue
        end = _token_end(text, pos)
        token = text[pos:end]
        key = _KEY.match(token)
        if key and key.group(1).lower() in (*FILTER_KEYS, "file"):
            name = key.group(1).lower()
            value_at = pos + key.end()
            if value_at < n and text[value_at] == '"':
                value, end = _quoted(text, value_at)
            else:
                value = text[value_at:end]
            if not value:
                raise error(text, pos, f"{name}: needs a value, e.g. {_EXAMPLES.get(name, name + ':VALUE')}")
            if name == "file":
                state.flush()
                state.parts.append(_file(text, value_at, value, state.take_weight()))
            else:
                if state.pending():
                    raise error(text, state.pending_at, "a sign or weight must precede a part, not a filter")
                _filter(state, name, value, value_at)
            pos = end
            continue
        # "Re: meeting", "TODO: call" (nothing after the colon) and URLs are words; "tpye:image" is
        # a mistyped filter, and searching it as text would hide the typo.
        if key and key.end() < len(token) and not token[key.end():].startswith("/"):
            raise error(text, pos, f"unknown filter {key.group(1)!r} (filters: {', '.join(FILTER_KEYS)}); "
                                   f"put the words in quotes to search them as text")
        if _looks_like_file(token):
            state.flush()
            state.parts.append(_file(text, pos, token, state.take_weight()))
        else:
            if state.pending():  # a sign or weight starts a new run of words
                state.flush()
                state.words_weight = state.take_weight()
            elif not state.words:
                state.words_weight = 1.0
            state.words.append(token)
        pos = end
    if state.pending():
        raise error(text, state.pending_at, "a sign or weight is followed by nothing to apply it to")
    state.flush()
    filters = Filters(frozenset(state.types), **state.filters)  # type: ignore[arg-type]
    check_bounds(filters)
    parts = (*state.parts, *extra)
    if not parts:
        raise nothing_to_search(inputs, filters_only=filters.active)
    return Query(parts, filters)


def check_bounds(filters: Filters) -> None:
    """A reversed range matches no file; say so rather than answer "No matches"."""
    if filters.after and filters.before and filters.after >= filters.before:
        raise QueryError(f"after:{filters.after.date()} is not before before:{filters.before.date()}; no file can match")
    low, high = filters.min_size, filters.max_size
    if low is not None and high is not None and low > high:
        raise QueryError(f"the size filters ask for at least {low} B and at most {high} B; no file can match "
                         f"(write the smaller size first, e.g. size:1KB..10MB)")


_EXAMPLES = {"type": "type:image", "path": 'path:"photos/*"', "after": "after:2021-06", "before": "before:2022",
             "size": "size:>10MB", "file": "file:./ref.jpg", "title": 'title:"annual report"', "author": "author:smith"}


def _quoted(text: str, pos: int) -> tuple[str, int]:
    close = text.find('"', pos + 1)
    if close < 0:
        raise error(text, pos, "this quote is never closed; add a closing \"")
    return text[pos + 1 : close], close + 1


def _token_end(text: str, pos: int) -> int:
    end = pos
    while end < len(text) and not text[end].isspace() and text[end] != '"':
        end += 1
    return end


def _looks_like_file(token: str) -> bool:
    return token.startswith(("./", "../", "/", "~/")) or (("/" in token or "." in token.strip(".")) and _is_file(token))


def _is_file(value: str) -> bool:
    """Whether ``value`` names a file; a name too long, with NUL or an unknown ``~user`` is not one."""
    try:
        return Path(value).expanduser().is_file()
    except (OSError, ValueError, RuntimeError):
        return False


def _file(text: str, pos: int, value: str, weight: float) -> QueryPart:
    if not _is_file(value):
        raise error(text, pos, f"no such file {value!r} to search by example; check the path (quote words to search them as text)")
    return file_part(value, weight)


def _filter(state: _State, name: str, value: str, pos: int) -> None:
    text = state.text
    if name == "type":
        kinds = {t.strip().lower() for t in re.split(r"[,|]", value) if t.strip()}
        if not kinds:
            raise error(text, pos, "type: needs a modality, e.g. type:image or type:image,video")
        state.types |= kinds
    elif name in ("path", "title", "author"):
        state.filters[name] = value
    elif name in ("after", "before"):
        state.filters[name] = _date(text, pos, value, upper=False)
    else:
        low, high = _size_range(text, pos, value)
        if low is not None:
            state.filters["min_size"] = low
        if high is not None:
            state.filters["max_size"] = high


def date_value(name: str, value: str) -> datetime:
    """``value`` as the query language reads dates (YYYY, YYYY-MM or YYYY-MM-DD), for front ends
    that take a date as its own parameter (HTTP ``after=``); ``name`` is how the error names it."""
    match = _DATE.match(value.strip())
    if not match:
        raise QueryError(f"{name}={value!r} is not a date; use YYYY, YYYY-MM or YYYY-MM-DD, as in the query language's {name}:")
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        return datetime(year, month or 1, day or 1)  # type: ignore[arg-type]  # the pattern always has a year
    except ValueError as exc:
        raise QueryError(f"{name}={value!r} is not a valid date ({exc})") from None


def _date(text: str, pos: int, value: str, upper: bool) -> datetime:
    match = _DATE.match(value)
    if not match:
        raise error(text, pos, f"{value!r} is not a date; use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        return datetime(year, month or 1, day or 1)  # type: ignore[arg-type]  # the pattern always has a year
    except ValueError as exc:
        raise error(text, pos, f"{value!r} is not a valid date ({exc})") from None


def _size_range(text: str, pos: int, value: str) -> tuple[int | None, int | None]:
    if ".." in value:
        low, _, high = value.partition("..")
        return (_bytes(text, pos, low) if low else None, _bytes(text, pos, high) if high else None)
    for op in (">=", "<=", ">", "<", "="):
        if value.startswith(op):
            amount = _bytes(text, pos + len(op), value[len(op):])
            return {">=": (amount, None), "<=": (None, amount), ">": (min(amount + 1, MAX_SIZE), None),
                    "<": (None, amount - 1), "=": (amount, amount)}[op]
    raise error(text, pos, f"size:{printable(value)} needs a comparison, e.g. size:>10MB, size:<=500KB or size:1MB..1GB")


def _bytes(text: str, pos: int, value: str) -> int:
    match = _SIZE.match(value.strip())
    if not match:
        raise error(text, pos, f"{value!r} is not a size; use a number with B, KB, MB, GB or TB (1 KB = 1024 B)")
    # Exact decimal arithmetic; beyond what a 64-bit size column holds every bound means "any
    # size this big", so it is clamped there rather than overflowing in SQL.
    amount = int(Decimal(match.group(1)) * _UNITS[match.group(2).upper()])
    return min(amount, MAX_SIZE)


MAX_SIZE = 2**63 - 1


def unparse(query: Query) -> str:
    """``query`` written in the query language; ``parse(unparse(q)) == q`` for every query whose
    texts and path glob hold no double quote (the language has no escape for one)."""
    items = []
    for part in query.parts:
        sign = "-" if part.weight < 0 else ""
        weight = abs(part.weight)
        prefix = sign + ("" if weight == 1 else f"{weight!r}:")
        items.append(f'{prefix}"{part.value}"' if part.kind == TEXT else f'{prefix}file:"{part.value}"')
    f = query.filters
    if f.types:
        items.append("type:" + ",".join(sorted(f.types)))
    if f.path:
        items.append(f'path:"{f.path}"')
    for name, when in (("after", f.after), ("before", f.before)):
        if when is not None:
            items.append(f"{name}:{when.year:04d}-{when.month:02d}-{when.day:02d}")
    if f.min_size is not None or f.max_size is not None:
        items.append(f"size:{'' if f.min_size is None else f.min_size}..{'' if f.max_size is None else f.max_size}")
    items += [f'{name}:"{value}"' for name, value in (("title", f.title), ("author", f.author)) if value]
    return " ".join(items)
