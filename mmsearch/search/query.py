"""A search request: weighted parts (text, or an example file) and filters applied before search.

Strings in the query language are turned into a :class:`Query` by ``parse.py``; Python callers
may also build one directly with :meth:`Query.build` or the dataclasses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from ..errors import ArgumentError, QueryError
from ..paths import storable
from ..types import TEXT

FILE = "file"  # a part given as an example file; its modality decides the payload kinds
#: Largest weight a part may carry: scores are summed times weights, and a weight that overflows
#: (``1e400`` is infinity) would turn every score into inf or NaN and silently return nothing.
MAX_WEIGHT = 1000.0
#: Most results one page may hold, and the deepest page a search may start at. Each leg fetches
#: about 5 * (k + offset) candidates, so an unbounded offset would ask the vector stage for
#: billions of rows (and overflow SQLite's 64-bit integers); nobody pages a million results deep.
MAX_K = 1000
MAX_OFFSET = 100_000
#: How the command line names what a query is made of; the HTTP API names its fields instead.
CLI_INPUTS = "a text query, an example file (--image FILE), or both"


def nothing_to_search(inputs: str = CLI_INPUTS, filters_only: bool = False) -> QueryError:
    """The error for a query without a part, in the words of the front end that took it."""
    hint = "; filters only narrow a search" if filters_only else ""
    return QueryError(f"nothing to search for: give {inputs}{hint}")


#: Parts one query may combine ("a" + "b" - "c"): each runs every leg, so a pasted list of
#: hundreds of parts held a server for minutes.
MAX_PARTS = 16
#: The longest text part, in characters: about four times what any built-in text model reads (MiniLM
#: 256 word pieces, CLIP 77 tokens). Each hit repeats its part's text in its legs and evidence, so a
#: 60,000-character query answered 12 MB for k=100 (an outside probe).
MAX_TEXT_CHARS = 4000


@dataclass(frozen=True)
class QueryPart:
    kind: str  # "text" or "file"
    value: str  # the text, or the file's absolute path
    weight: float = 1.0  # negative: push media like this down

    def __post_init__(self) -> None:
        # Anything but "text" is read as a path: an unknown kind must not reach a file by a side door.
        if self.kind not in (TEXT, FILE):
            raise QueryError(f"query part kind {self.kind!r}: must be {TEXT!r} or {FILE!r}")
        if self.kind == TEXT and len(self.value) > MAX_TEXT_CHARS:
            raise QueryError(f"a text query may be at most {MAX_TEXT_CHARS} characters, this one has {len(self.value)}; "
                             "the model reads the first few hundred only: search with its key words")
        if self.kind == TEXT and storable(self.value) != self.value:
            # a byte that is not UTF-8 (a Latin-1 terminal) reaches Python as a lone surrogate
            shown = storable(self.value)
            raise QueryError(f"the query '{shown}' is not valid UTF-8; set the terminal to UTF-8 (e.g. LANG=C.UTF-8) and type it again")

    @property
    def label(self) -> str:
        shown = f'"{self.value}"' if self.kind == TEXT else Path(self.value).name
        prefix = "" if self.weight == 1.0 else ("-" if self.weight == -1.0 else f"{self.weight:g}:")
        return prefix + shown


@dataclass(frozen=True)
class Filters:
    """Restrictions evaluated in SQL before any leg runs (see ``filters.py``)."""

    types: frozenset[str] = frozenset()  # modality names
    path: str | None = None  # glob over the path relative to its library root, or the file name
    after: datetime | None = None  # capture date (EXIF) else mtime, inclusive lower bound (local time)
    before: datetime | None = None  # exclusive upper bound
    min_size: int | None = None  # bytes, inclusive
    max_size: int | None = None
    title: str | None = None  # the media's title contains this, ignoring case (documents' metadata)
    author: str | None = None  # the media's author contains this, ignoring case

    @property
    def active(self) -> bool:
        return bool(self.types or self.path or self.after or self.before or self.min_size is not None or self.max_size is not None
                    or self.title or self.author)

    def merge(self, other: Filters) -> Filters:
        """Both sets of restrictions at once (flags or HTTP parameters on a query with its own
        filters): types both allow, the later of two ``after`` and the earlier of two ``before``,
        the tighter size bounds. An app could not narrow a user's `type:image` to text (both came
        back) nor keep its own date range (an outside probe). A glob, title or author in ``other``
        replaces the query's (one of each is kept)."""
        if self.types and other.types and not self.types & other.types:
            raise QueryError(f"the query asks for type {', '.join(sorted(self.types))} and the request for "
                             f"{', '.join(sorted(other.types))}: no file can be both")
        return Filters(
            types=(self.types & other.types) if self.types and other.types else self.types | other.types,
            path=other.path or self.path,
            after=max(filter(None, (self.after, other.after)), default=None),
            before=min(filter(None, (self.before, other.before)), default=None),
            min_size=max((v for v in (self.min_size, other.min_size) if v is not None), default=None),
            max_size=min((v for v in (self.max_size, other.max_size) if v is not None), default=None),
            title=other.title or self.title,
            author=other.author or self.author,
        )


@dataclass(frozen=True)
class Query:
    parts: tuple[QueryPart, ...]
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self) -> None:
        if not self.parts:
            raise nothing_to_search()
        if len(self.parts) > MAX_PARTS:
            raise QueryError(f"a query may combine at most {MAX_PARTS} parts, this one has {len(self.parts)}; "
                             "each part is a search of its own")
        if not any(p.weight > 0 for p in self.parts):
            negatives = ", ".join(p.label for p in self.parts)  # the user's own, not an example's
            raise QueryError(f"a query needs at least one positive part; negative parts ({negatives}) only push results down")
        if any(p.weight == 0 for p in self.parts):
            raise QueryError("a part weighs 0, which would ignore it; drop it or give it a weight such as 0.5:")
        for part in self.parts:
            if not math.isfinite(part.weight) or abs(part.weight) > MAX_WEIGHT:
                raise QueryError(f"part {part.label} has weight {part.weight}; weights must lie between -{MAX_WEIGHT:g} and {MAX_WEIGHT:g}")

    @property
    def positive(self) -> tuple[QueryPart, ...]:
        return tuple(p for p in self.parts if p.weight > 0)

    @property
    def negative(self) -> tuple[QueryPart, ...]:
        return tuple(p for p in self.parts if p.weight < 0)

    @classmethod
    def parse(cls, text: str) -> Query:
        """Parse the query language, e.g. ``"red car" + ./ref.jpg - night type:image after:2021``."""
        from .. import arguments as args
        from .parse import parse

        return parse(args.text(text, "Query.parse()", "text (the query language)", optional=False))  # type: ignore[arg-type]

    @classmethod
    def build(
        cls,
        text: str | None = None,
        files: Iterable[str | Path] = (),
        types: Iterable[str] = (),
        path: str | None = None,
        *,
        negative: Iterable[str] = (),
        after: datetime | None = None,
        before: datetime | None = None,
        min_size: int | None = None,
        max_size: int | None = None,
        title: str | None = None,
        author: str | None = None,
    ) -> Query:
        """A query from structured arguments; ``text`` is taken literally (not parsed). ``files``
        and ``negative`` take one item or a list, ``types`` one name, a list or "image,video"."""
        from .. import arguments as args

        method = "Query.build()"
        text = args.text(text, method, "text")
        files = args.path_list(files, method)  # 'photo.jpg' is one file, not the files p, h, o, …
        types = args.name_list(types, method, "types")
        negative = args.name_list(negative, method, "negative", commas=False)
        for what, value in (("path", path), ("title", title), ("author", author)):
            args.text(value, method, what)
        for what, value in (("after", after), ("before", before)):
            if value is not None and not isinstance(value, datetime):
                raise ArgumentError(f"{method}: {what} must be a datetime or None, not {type(value).__name__}")
        for what, value in (("min_size", min_size), ("max_size", max_size)):
            if value is not None and not args.whole(value):
                raise ArgumentError(f"{method}: {what} must be a whole number of bytes or None, not {value!r}")
        parts = []
        if text is not None and text.strip():
            parts.append(QueryPart(TEXT, text.strip()))
        parts.extend(file_part(item) for item in files)
        parts.extend(QueryPart(TEXT, n.strip(), -1.0) for n in negative if n.strip())
        if not parts:
            raise nothing_to_search()
        return cls(tuple(parts), Filters(frozenset(types), path, after, before, min_size, max_size, title, author))

    def with_filters(self, filters: Filters) -> Query:
        return replace(self, filters=self.filters.merge(filters))

    def with_parts(self, parts: Iterable[QueryPart]) -> Query:
        return replace(self, parts=self.parts + tuple(parts))


def file_part(item: str | Path, weight: float = 1.0) -> QueryPart:
    try:
        file = Path(item).expanduser()
        found, there = file.is_file(), file.exists()
    except (OSError, ValueError, RuntimeError):  # too long, NUL, an unknown ~user
        found = there = False
    if not found:
        why = ("a folder, not a file" if file.is_dir() else "not a regular file (a pipe, socket or device)") if there else "no such file"
        raise QueryError(f"{item}: {why}; give the file to search by example")
    return QueryPart(FILE, str(file.resolve()), weight)


def check_types(query: Query, known: Iterable[str], what: str = "type") -> None:
    """Refuse a type filter naming no installed modality: it would silently match nothing."""
    known = set(known)
    unknown = sorted(set(query.filters.types) - known)
    if unknown:
        raise QueryError(f"unknown {what} {', '.join(unknown)}; installed modalities: {', '.join(sorted(known))}")
