"""mmsearch: search your own photos, documents, recordings and videos in plain words or by example."""

import os
from typing import TYPE_CHECKING, Any

# FAISS and torch each bring an OpenMP runtime; threads of one that spin-wait after their work
# starve the other's (a query's text encode ran 2x slower right after a vector search on 2
# cores). Sleeping idle threads costs nothing measurable here. Set before either library loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .embedder import Embedder, ModelInfo  # noqa: E402
from .errors import (
    ArgumentError,
    ConfigError,
    EmbedError,
    ExtractError,
    MMSearchError,
    ModelUnavailableError,
    PluginError,
    QueryError,
    SchemaError,
    SpaceMismatchError,
)
from .modality import Modality
from .plugins import hookimpl
from .search.fusion import Fuser, LegScores
from .search.query import Filters, Query, QueryPart
from .settings import Settings
from .types import Evidence, FileReport, Hit, IndexSummary, Locator, Segment, Source, Space, Status

if TYPE_CHECKING:
    from .engine import Engine


def __getattr__(name: str) -> Any:
    # The engine pulls in FAISS, SQLAlchemy and Alembic (about 1 s); plugins import
    # mmsearch.modality or mmsearch.embedder and should not pay for it.
    if name == "Engine":
        from .engine import Engine

        return Engine
    raise AttributeError(f"module 'mmsearch' has no attribute {name!r}")


__all__ = [
    "ArgumentError", "ConfigError", "EmbedError", "Embedder", "Engine", "Evidence", "ExtractError", "FileReport", "Filters", "Fuser",
    "Hit", "IndexSummary", "LegScores", "Locator", "MMSearchError", "Modality", "ModelInfo", "ModelUnavailableError",
    "PluginError", "Query", "QueryError", "QueryPart", "SchemaError", "Segment", "Settings", "Source", "Space",
    "SpaceMismatchError", "Status", "hookimpl",
]
