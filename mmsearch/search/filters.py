"""Filters as SQL, evaluated before any leg runs: the vector legs get the allowed segment ids as a
FAISS id selector and the keyword leg adds the same condition to its SQL, so a filtered query
still fills its top-k whenever k matching media exist (txtai#915 filters after kNN and comes back
empty)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import ColumnElement, Engine, and_, false, func, literal, or_, select

from ..paths import encode_relpath, storable
from ..store.models import Media
from ..store.models import Segment as SegmentRow
from .query import Filters


def media_condition(filters: Filters, dialect: str) -> ColumnElement[bool]:
    """A WHERE clause over ``Media`` that holds exactly for the media the filters allow."""
    conds: list[ColumnElement[bool]] = [Media.status == "indexed"]
    if filters.types:
        conds.append(Media.modality.in_(sorted(filters.types)))
    if filters.path:
        conds.append(path_condition(filters.path, dialect))
    if filters.after is not None:
        conds.append(_date_bound(filters.after, lower=True))
    if filters.before is not None:
        conds.append(_date_bound(filters.before, lower=False))
    if filters.min_size is not None:
        conds.append(Media.size >= filters.min_size)
    if filters.max_size is not None:
        conds.append(Media.size <= filters.max_size)
    if filters.title:
        conds.append(_contains(Media.title, filters.title))
    if filters.author:
        conds.append(_contains(Media.author, filters.author))
    return and_(*conds)


def _contains(column: ColumnElement[str | None], text: str) -> ColumnElement[bool]:
    # No stored text holds NUL or a lone surrogate (PostgreSQL refuses both as a parameter,
    # SQLite finds nothing): such a value matches nothing, the same on every backend.
    if any(c == "\x00" or "\ud800" <= c <= "\udfff" for c in text):
        return false()
    return column.icontains(text, autoescape=True)


def allowed_segments(db: Engine, filters: Filters) -> np.ndarray:
    """Segment ids of the media the filters allow."""
    query = select(SegmentRow.id).join(Media, Media.id == SegmentRow.media_id).where(media_condition(filters, db.dialect.name))
    with db.connect() as conn:
        return np.fromiter(conn.scalars(query), dtype=np.int64)


def _date_bound(when: datetime, lower: bool) -> ColumnElement[bool]:
    # The EXIF capture date is local wall-clock time, so compare it as is; mtime is an epoch, so
    # convert the bound from local time (a naive datetime's .timestamp() is local).
    try:
        seconds = when.timestamp()
    except (OverflowError, OSError, ValueError):  # year 1 or 9999 in some time zones: hours do not matter there
        seconds = (when - datetime(1970, 1, 1)).total_seconds()
    # Clamped to the 64-bit column: before:9999-12-31 is 2.5e20 ns, past what SQL can bind.
    ns = max(-(2**63), min(2**63 - 1, int(seconds * 1_000_000_000)))
    taken = Media.taken_at >= when if lower else Media.taken_at < when
    mtime = Media.mtime_ns >= ns if lower else Media.mtime_ns < ns
    return or_(and_(Media.taken_at.is_not(None), taken), and_(Media.taken_at.is_(None), mtime))


def path_condition(pattern: str, dialect: str) -> ColumnElement[bool]:
    """``path:`` as a glob; a pattern without wildcards (``path:photos``, ``path:2024/trips/``) also
    names a folder anywhere in the path, as people mean it: as an exact glob it matched only a file
    of that very name, and a folder filter silently returned nothing. A pattern holding bytes that
    are not UTF-8 (what shell completion types for such a name) is matched as such names are stored."""
    if storable(pattern) != pattern:
        pattern = encode_relpath(pattern)
    if any(c in pattern for c in "*?["):
        return glob_condition(pattern, dialect)
    folder = pattern.strip("/")
    if not folder:
        return glob_condition(pattern, dialect)
    return or_(*(glob_condition(g, dialect) for g in (pattern, f"{folder}/*", f"*/{folder}/*")))


def glob_condition(pattern: str, dialect: str) -> ColumnElement[bool]:
    """The path (relative to its library) or the file name matches ``pattern`` with exactly
    ``fnmatch.fnmatchcase`` rules on every backend: ``*`` and ``?`` also cross ``/``, ``[!a]``
    negates, ``[z-a]`` matches nothing, ``[[:alpha:]]`` is the set ``[:alph`` then ``]``. The glob
    is parsed here and written out in each backend's own syntax, with every character escaped, so
    no pattern can be a syntax error in SQL."""
    tokens = parse_glob(pattern)
    if tokens is None:  # a part that no stored name can match (an empty set, NUL)
        return false()
    if dialect == "sqlite":
        glob = to_sqlite_glob(tokens)
        # The file name: strip everything up to the last '/' (rtrim removes the trailing non-'/' run).
        name = func.substr(Media.relpath, func.length(func.rtrim(Media.relpath, func.replace(Media.relpath, "/", ""))) + 1)
        return or_(Media.relpath.op("GLOB")(glob), name.op("GLOB")(glob))
    if dialect == "postgresql":
        regex = to_posix_regex(tokens)
        return or_(Media.relpath.op("~")(regex), func.regexp_replace(Media.relpath, "^.*/", "").op("~")(regex))
    return Media.relpath.op("LIKE")(literal(pattern.replace("*", "%").replace("?", "_")))


@dataclass(frozen=True)
class CharSet:
    """``[...]`` of a glob: inclusive code point ranges, or the complement of them."""

    negated: bool
    ranges: tuple[tuple[int, int], ...]


#: A glob, parsed: a literal character, ``ANY`` (``?``), ``STAR`` (``*``) or a CharSet.
Token = str | CharSet
ANY, STAR = CharSet(True, ()), "*"
# Stored names never hold these (text columns refuse NUL; undecodable bytes are escaped).
_UNSTORABLE = ((0, 0), (0xD800, 0xDFFF))


def parse_glob(pattern: str) -> list[Token] | None:
    """The tokens of ``pattern`` by ``fnmatch.translate``'s rules, or None if it can match no
    stored name. Literal characters are one-character strings; ``STAR`` is the string ``"*"``
    only as a token of its own (a literal ``*`` comes back as a one-member CharSet)."""
    tokens: list[Token] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if not tokens or tokens[-1] != STAR:
                tokens.append(STAR)
        elif c == "?":
            tokens.append(ANY)
        elif c == "[" and (closed := _set_end(pattern, i)) is not None:
            charset = _charset(pattern[i:closed])
            i = closed + 1
            if charset is None:
                return None
            tokens.append(charset)
        elif _storable(ord(c)):
            tokens.append(CharSet(False, ((ord(c), ord(c)),)) if c in "*?[" else c)
        else:
            return None
    return tokens


def _set_end(pattern: str, i: int) -> int | None:
    j, n = i, len(pattern)
    if j < n and pattern[j] == "!":
        j += 1
    if j < n and pattern[j] == "]":
        j += 1
    close = pattern.find("]", j)
    return None if close < 0 else close


def _charset(stuff: str) -> CharSet | None:
    """A set body exactly as ``fnmatch.translate`` reads it: it rewrites the body as a Python
    regular-expression set (dropping reversed ranges with the characters either side, as it
    does), which is then read the way ``re`` reads a set."""
    negated = stuff.startswith("!")
    if "-" not in stuff:
        body = stuff.replace("\\", "\\\\")
    else:
        chunks: list[str] = []
        i, k = 0, 2 if negated else 1
        while (k := stuff.find("-", k)) >= 0:
            chunks.append(stuff[i:k])
            i, k = k + 1, k + 3
        if stuff[i:]:
            chunks.append(stuff[i:])
        else:
            chunks[-1] += "-"
        for k in range(len(chunks) - 1, 0, -1):
            if chunks[k - 1][-1] > chunks[k][0]:
                chunks[k - 1] = chunks[k - 1][:-1] + chunks[k][1:]
                del chunks[k]
        body = "-".join(c.replace("\\", "\\\\").replace("-", "\\-") for c in chunks)
    if negated:
        body = body[1:]
    ranges: list[tuple[int, int]] = []
    i, n = 0, len(body)
    while i < n:
        lo, i = _set_char(body, i)
        if i + 1 < n and body[i] == "-":  # an unescaped '-' with a character after it: a range
            hi, i = _set_char(body, i + 1)
            ranges.append((lo, hi))
        else:
            ranges.append((lo, lo))
    ranges = _clip_unstorable(ranges)
    if not ranges:
        return ANY if negated else None
    return CharSet(negated, tuple(ranges))


def _set_char(body: str, i: int) -> tuple[int, int]:
    if body[i] == "\\" and i + 1 < len(body):
        return ord(body[i + 1]), i + 2
    return ord(body[i]), i + 1


def _storable(code: int) -> bool:
    return not any(lo <= code <= hi for lo, hi in _UNSTORABLE)


def _clip_unstorable(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in ranges:
        pieces = [(lo, hi)]
        for bad_lo, bad_hi in _UNSTORABLE:
            pieces = [p for a, b in pieces for p in ((a, min(b, bad_lo - 1)), (max(a, bad_hi + 1), b)) if p[0] <= p[1]]
        out.extend(pieces)
    return out


def to_posix_regex(tokens: list[Token]) -> str:
    """An anchored PostgreSQL regular expression; every character is a ``\\u`` escape."""
    out = ["^"]
    for token in tokens:
        if token == STAR:
            out.append(".*")
        elif isinstance(token, str):
            out.append(token if token.isascii() and token.isalnum() else _pg_char(ord(token)))
        elif token == ANY:
            out.append(".")
        else:
            body = "".join(_pg_char(lo) if lo == hi else f"{_pg_char(lo)}-{_pg_char(hi)}" for lo, hi in token.ranges)
            out.append(f"[{'^' if token.negated else ''}{body}]")
    return "".join(out) + "$"


def _pg_char(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


_GLOB_SPECIAL = {ord("]"), ord("-"), ord("^")}


def to_sqlite_glob(tokens: list[Token]) -> str:
    """A SQLite GLOB pattern. GLOB has no escape character: a literal ``*``, ``?`` or ``[`` is
    written as a one-member set, and inside a set ``]`` goes first, ``-`` right after it and
    ``^`` last, where GLOB reads each literally."""
    out = []
    for token in tokens:
        if token == STAR:
            out.append("*")
        elif isinstance(token, str):
            out.append(token)
        elif token == ANY:
            out.append("?")
        else:
            out.append(_glob_set(token))
    return "".join(out)


def _glob_set(charset: CharSet) -> str:
    special: set[int] = set()
    plain: list[tuple[int, int]] = []
    for lo, hi in charset.ranges:
        cuts = sorted(c for c in _GLOB_SPECIAL if lo <= c <= hi)
        special.update(cuts)
        for cut in cuts:  # the special characters come out of the range, to be placed apart
            if lo <= cut - 1:
                plain.append((lo, cut - 1))
            lo = cut + 1
        if lo <= hi:
            plain.append((lo, hi))
    if not charset.negated and not plain and special == {ord("^")}:
        return "^"  # "[^]" would read as a negation
    body = ("]" if ord("]") in special else "") + ("-" if ord("-") in special else "")
    body += "".join(chr(lo) if lo == hi else f"{chr(lo)}-{chr(hi)}" for lo, hi in plain)
    body += "^" if ord("^") in special else ""
    return f"[{'^' if charset.negated else ''}{body}]"
