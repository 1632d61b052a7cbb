"""What every format reader returns: paragraphs under section headings, and document metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Paragraph:
    text: str
    section: str | None  # the nearest heading above it


@dataclass(frozen=True)
class Document:
    paragraphs: tuple[Paragraph, ...]
    title: str | None = None
    author: str | None = None
    created: str | None = None  # ISO 8601
    extra: dict[str, object] = field(default_factory=dict)


def iso(value: object) -> str | None:
    """A date from a datetime or an ISO-ish string (``2021-05-04``, ``2021-05-04T10:00:00Z``)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None).isoformat()
    except ValueError:
        return None


def clean(value: object) -> str | None:
    text = " ".join(str(value or "").split())
    return text or None
