"""Which embedding spaces an index uses: recorded on creation, enforced on every later open."""

from __future__ import annotations

import uuid

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from .embedder import Embedder
from .errors import ConfigError, ModelUnavailableError, SpaceMismatchError
from .plugins import Registry
from .store.models import Media, SpaceRow, Vector
from .indexing.writer import now


@dataclass(frozen=True)
class Chosen:
    row_id: int
    embedder: Embedder


def select_spaces(db: SqlEngine, registry: Registry, requested: Sequence[str] | None, where: str) -> tuple[list[Chosen], str | None]:
    """The index's spaces and, for a new index, a line saying which was picked and why."""
    with Session(db) as session:
        recorded = list(session.scalars(select(SpaceRow).order_by(SpaceRow.id)))
        empty = session.scalar(select(Media.id).limit(1)) is None and session.scalar(select(Vector.segment_id).limit(1)) is None
    if recorded and requested and empty and [row.embedder for row in recorded] != list(requested):
        # An index that holds nothing: its first run failed (a model that could not be downloaded
        # offline), and asking for another embedder must not meet "was built with clip" forever.
        with Session(db) as session, session.begin():
            session.execute(delete(SpaceRow))
        recorded = []
    if recorded:
        return [_match(row, registry, requested, where) for row in recorded], None
    embedders, note = _choose_for_new_index(registry, requested)
    chosen = []
    with Session(db) as session, session.begin():
        for embedder in embedders:
            space = embedder.space
            row_id = session.scalar(
                insert(SpaceRow)
                .values(key=space.key, embedder=space.embedder, model=space.model, dim=space.dim,
                        kinds=",".join(sorted(space.kinds)), created_at=now(), generation=0, uid=uuid.uuid4().hex)
                .returning(SpaceRow.id)
            )
            chosen.append(Chosen(int(row_id), embedder))
    return chosen, note


def _match(row: SpaceRow, registry: Registry, requested: Sequence[str] | None, where: str) -> Chosen:
    if requested and row.embedder not in requested:
        raise SpaceMismatchError(
            f"the index at {where} was built with {row.key}, not {', '.join(requested)}; "
            f"use another --index for a different model, or drop --embedder"
        )
    entry = registry.embedders.get(row.embedder)
    if entry is None:
        raise SpaceMismatchError(
            f"the index at {where} was built with embedder {row.embedder!r}, which no installed plugin provides; "
            f"install that plugin (see `mmsearch plugins`) or use another --index"
        )
    embedder: Embedder = entry.obj
    if embedder.model != row.model or int(embedder.dim) != row.dim:
        raise SpaceMismatchError(
            f"the index at {where} was built with {row.key} ({row.dim}-d) but {row.embedder!r} is now configured as "
            f"{embedder.space.key} ({embedder.dim}-d); set the model back, or build a new index with another --index"
        )
    return Chosen(row.id, embedder)


def default_order(embedder: Embedder) -> tuple[int, int, str]:
    """Sort key for a new index's default: most kinds covered, then priority, then name.

    Kinds first, so installing a text-only embedder (however high its priority) never silently
    makes new indexes blind to images."""
    return (-len(embedder.kinds), -embedder.priority, embedder.name)


def _choose_for_new_index(registry: Registry, requested: Sequence[str] | None) -> tuple[list[Embedder], str | None]:
    if requested:
        missing = [name for name in requested if name not in registry.embedders]
        if missing:
            raise ConfigError(f"no embedder named {', '.join(missing)}; installed: {', '.join(sorted(registry.embedders)) or 'none'}")
        return [registry.embedders[name].obj for name in requested], None
    candidates = sorted((r.obj for r in registry.embedders.values()), key=default_order)
    if not candidates:
        raise ConfigError('no embedder is installed; install one: pip install "mmsearch[lite]" (offline) '
                          'or "mmsearch[clip]" (see `mmsearch plugins` for disabled ones)')
    passed_over: list[str] = []
    details: list[str] = []
    for embedder in candidates:
        info = embedder.info()
        if info.available:
            why = f"; {'; '.join(passed_over)}" if passed_over else ""
            note = (f"new index uses embedder '{embedder.name}' ({embedder.space.key}){why}. "
                    f"Choose another with --embedder NAME (see `mmsearch models`).")
            return [embedder], note
        passed_over.append(f"'{embedder.name}' skipped, its weights are not available here")
        details.append(f"{embedder.name}: {info.detail or 'weights not available offline'}")
    raise ModelUnavailableError("no embedder has its weights available here. " + " ".join(details))
