"""Typed requests and responses: what /docs shows and what FastAPI validates."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from ..paths import surrogates

from ..search.query import MAX_K, MAX_OFFSET


class Inbound(BaseModel):
    """What a client sends. A JSON string may hold a lone surrogate ("\\ud800"): no path, name or
    answer can hold it, and it failed deep inside (a 500, an encoding error) instead of here."""

    @field_validator("*", mode="after")
    @classmethod
    def _only_characters(cls, value: Any) -> Any:
        for item in value if isinstance(value, list) else [value]:
            # Even the \\udc80-\\udcff that stand for undecodable bytes in Python: no client means
            # those, and echoed in an answer they fail to encode just the same.
            if isinstance(item, str) and surrogates(item):
                raise PydanticCustomError("lone_surrogate", "holds a lone surrogate (such as \\ud800), which is no character; "
                                                            "send valid UTF-8 text (a \\u escape must be a complete pair)")
        return value


class ErrorOut(BaseModel):
    error: str = Field(description="One line: what went wrong and what to do (the CLI's message).")


class LocatorOut(BaseModel):
    start: float | None = None
    end: float | None = None
    char_start: int | None = None
    char_end: int | None = None
    page: int | None = None
    box: tuple[float, float, float, float] | None = None  # OCR'd text: (left, top, right, bottom), fractions


class EvidenceOut(BaseModel):
    segment_id: int
    kind: str
    locator: LocatorOut
    text: str | None
    leg: str
    score: float
    raw_score: float


class HitOut(BaseModel):
    media_id: int
    path: str = Field(description="Relative to its library root.")
    abspath: str = Field(description="The file's path on the server, exactly, when it is valid UTF-8; otherwise shown as "
                                     "`path` is (\\xNN for each undecodable byte, a backslash doubled): use abspath_bytes.")
    abspath_bytes: str | None = Field(None, description="Only for a path that is not valid UTF-8: its bytes, percent-encoded "
                                                        "(Python: urllib.parse.unquote_to_bytes).")
    modality: str
    score: float = Field(description="Calibrated: 0.5 means a plausible match in any modality.")
    legs: dict[str, float]
    evidence: list[EvidenceOut]
    link: str = Field(description="abspath with #t= for the evidence time (or #page=), as the CLI prints it.")
    file_url: str | None = Field(None, description="The original file (HTTP Range supported).")
    thumb_url: str | None = Field(None, description="A thumbnail: the image, the video frame at the evidence, or an icon.")
    explain: str | None = Field(None, description="The CLI's --explain text, when asked for.")


class SearchOut(BaseModel):
    hits: list[HitOut]
    k: int
    offset: int
    took_ms: float


class SearchParams(Inbound):
    """A search in the query language, e.g. ``"red car" - night type:image after:2021``."""

    q: str = Field("", description="The query language; example files must be uploaded (POST).")
    k: int = Field(10, ge=1, le=MAX_K)
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Skip this many results (paging).")
    min_score: float | None = Field(None, ge=0, le=1, allow_inf_nan=False, description="Default: the index's search.min_score.")
    fuser: str = "weighted"
    type: list[str] = Field(default_factory=list, description="Only these modalities.")
    path: str | None = Field(None, description="Glob over the path relative to its library, or the file name.")
    after: str | None = Field(None, description="Captured or changed on or after: YYYY, YYYY-MM or YYYY-MM-DD.")
    before: str | None = Field(None, description="Before (exclusive): YYYY, YYYY-MM or YYYY-MM-DD.")
    explain: bool = False


class SearchForm(SearchParams):
    query: str | None = Field(None, description="A parsed query as JSON (what the CLI sends); replaces q.")


class FailureOut(BaseModel):
    path: str
    error: str | None


class StatusOut(BaseModel):
    index_dir: str
    db_url: str
    media: dict[str, int]
    segments: int
    failures: list[FailureOut]
    spaces: list[dict[str, Any]]
    roots: list[str]
    db_bytes: int | None
    vector_bytes: int
    modalities: list[str] = Field(description="Installed modalities (for filters).")


class PluginOut(BaseModel):
    name: str
    hooks: list[str]
    distribution: str | None
    modalities: list[str]
    embedders: list[str]
    fusers: list[str]


class ModelOut(BaseModel):
    name: str
    plugin: str | None
    space: str
    dim: int
    kinds: list[str]
    available: bool
    weights: str | None
    detail: str | None


class PathsIn(Inbound):
    paths: list[str] = Field(min_length=1)


class RemovedOut(BaseModel):
    removed: int


class JobIn(Inbound):
    path: str = Field(description="A folder or file inside a library root (see `serve --root`).")


class JobOut(BaseModel):
    id: str
    path: str
    state: str = Field(description="running, done, failed or cancelled")
    done: int
    total: int
    current: str
    summary: dict[str, Any] | None
    error: str | None
    started: float
    finished: float | None


class HealthOut(BaseModel):
    ok: bool
    index_dir: str
    db: str
    version: str
