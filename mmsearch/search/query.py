"""A search request: weighted parts (text, or an example file) and filters applied before search."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import QueryError
from ..types import TEXT

FILE = "file"  # a part given as an example file; its modality decides the payload kinds


@dataclass(frozen=True)
class QueryPart:
    kind: str  # "text" or "file"
    value: str  # the text, or the file's path
    weight: float = 1.0

    @property
    def label(self) -> str:
        shown = f'"{self.value}"' if self.kind == TEXT else Path(self.value).name
        prefix = "" if self.weight == 1.0 else ("-" if self.weight == -1.0 else f"{self.weight:g}:")
        return prefix + shown


@dataclass(frozen=True)
class Filters:
    types: frozenset[str] = frozenset()  # modality names
    path: str | None = None  # glob over the path relative to its library root

    @property
    def active(self) -> bool:
        return bool(self.types or self.path)


@dataclass(frozen=True)
class Query:
    parts: tuple[QueryPart, ...]
    filters: Filters = field(default_factory=Filters)

    @classmethod
    def build(
        cls,
        text: str | None = None,
        files: Iterable[str | Path] = (),
        types: Iterable[str] = (),
        path: str | None = None,
    ) -> Query:
        parts = []
        if text is not None and text.strip():
            parts.append(QueryPart(TEXT, text.strip()))
        for item in files:
            file = Path(item).expanduser()
            if not file.is_file():
                raise QueryError(f"{item}: no such file to search by example")
            parts.append(QueryPart(FILE, str(file.resolve())))
        if not parts:
            raise QueryError("nothing to search for: give a text query, an example file (--image FILE), or both")
        return cls(tuple(parts), Filters(frozenset(types), path))
