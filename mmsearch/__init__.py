"""mmsearch: search your own photos, documents, recordings and videos in plain words or by example."""

from .embedder import Embedder, ModelInfo
from .engine import Engine
from .errors import (
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

__all__ = [
    "ConfigError", "EmbedError", "Embedder", "Engine", "Evidence", "ExtractError", "FileReport", "Filters", "Fuser",
    "Hit", "IndexSummary", "LegScores", "Locator", "MMSearchError", "Modality", "ModelInfo", "ModelUnavailableError",
    "PluginError", "Query", "QueryError", "QueryPart", "SchemaError", "Segment", "Settings", "Source", "Space",
    "SpaceMismatchError", "Status", "hookimpl",
]
