"""Filters as SQL, evaluated before any leg runs: the vector legs get the allowed segment ids as a
FAISS id selector and the keyword leg adds the same condition to its SQL, so a filtered query
still fills its top-k whenever k matching media exist (txtai#915 filters after kNN and comes back
empty)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import ColumnElement, Engine, and_, false, func, literal, or_, select

from ..store.models import Media
from ..store.models import Segment as SegmentRow
from .query import Filters


def media_condition(filters: Filters, dialect: str) -> ColumnElement[bool]:
    """A WHERE clause over ``Media`` that holds exactly for the media the filters allow."""
    conds: list[ColumnElement[bool]] = [Media.status == "indexed"]
    if filters.types:
        conds.append(Media.modality.in_(sorted(filters.types)))
    if filters.path:
        conds.append(glob_condition(filters.path, dialect))
    if filters.after is not None:
        conds.append(_date_bound(filters.after, lower=True))
    if filters.before is not None:
        conds.append(_date_bound(filters.before, lower=False))
    if filters.min_size is not None:
        conds.append(Media.size >= filters.min_size)
    if filters.max_size is not None:
        conds.append(Media.size <= filters.max_size)
    if filters.title:
        conds.append(Media.title.icontains(filters.title, autoescape=True))
    if filters.author:
        conds.append(Media.author.icontains(filters.author, autoescape=True))
    return and_(*conds)


def allowed_segments(db: Engine, filters: Filters) -> np.ndarray:
    """Segment ids of the media the filters allow."""
    query = select(SegmentRow.id).join(Media, Media.id == SegmentRow.media_id).where(media_condition(filters, db.dialect.name))
    with db.connect() as conn:
        return np.fromiter(conn.scalars(query), dtype=np.int64)


def _date_bound(when: datetime, lower: bool) -> ColumnElement[bool]:
    # The EXIF capture date is local wall-clock time, so compare it as is; mtime is an epoch, so
    # convert the bound from local time (a naive datetime's .timestamp() is local).
    ns = int(when.timestamp() * 1_000_000_000)
    taken = Media.taken_at >= when if lower else Media.taken_at < when
    mtime = Media.mtime_ns >= ns if lower else Media.mtime_ns < ns
    return or_(and_(Media.taken_at.is_not(None), taken), and_(Media.taken_at.is_(None), mtime))


def glob_condition(pattern: str, dialect: str) -> ColumnElement[bool]:
    """The path (relative to its library) or the file name matches ``pattern`` (fnmatch rules,
    case-sensitive: ``*`` and ``?`` also cross ``/``, ``[!a]`` negates)."""
    if dialect == "sqlite":
        glob = pattern.replace("[!", "[^")  # SQLite's GLOB spells negation with ^
        # The file name: strip everything up to the last '/' (rtrim removes the trailing non-'/' run).
        name = func.substr(Media.relpath, func.length(func.rtrim(Media.relpath, func.replace(Media.relpath, "/", ""))) + 1)
        return or_(Media.relpath.op("GLOB")(glob), name.op("GLOB")(glob))
    if dialect == "postgresql":
        regex = glob_to_regex(pattern)
        return or_(Media.relpath.op("~")(regex), func.regexp_replace(Media.relpath, "^.*/", "").op("~")(regex))
    return false() if not pattern else Media.relpath.op("LIKE")(literal(pattern.replace("*", "%").replace("?", "_")))


def glob_to_regex(pattern: str) -> str:
    """An anchored POSIX regular expression equivalent to an fnmatch glob."""
    out, i, n = ["^"], 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            j = i + (1 if i < n and pattern[i] == "!" else 0)
            j += 1 if j < n and pattern[j] == "]" else 0
            close = pattern.find("]", j)
            if close < 0:
                out.append("\\[")
                continue
            body = pattern[i:close].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = close + 1
        else:
            out.append(c if c.isalnum() else "\\" + c)
    return "".join(out) + "$"
