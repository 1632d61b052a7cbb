"""``/api/health``, ``/api/status``, ``/api/plugins``, ``/api/models`` and ``/api/remove``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from fastapi import APIRouter, Depends, HTTPException

from ..errors import IndexGoneError
from ..plugins import describe_plugins
from .schemas import HealthOut, ModelOut, PathsIn, PluginOut, RemovedOut, StatusOut
from .security import within_roots
from .state import ServerState, get_state

router = APIRouter(tags=["index"])


@router.get("/api/health", response_model=HealthOut, summary="Which index this server holds (the CLI checks it)")
def health(state: ServerState = Depends(get_state)) -> HealthOut:
    engine = state.engine
    try:
        engine.check_database()
        ok = True
    except IndexGoneError:  # the CLI then searches the index itself instead of this server
        ok = False
    return HealthOut(ok=ok, index_dir=str(engine.index_dir), db=engine.db.url.render_as_string(hide_password=True),
                     version=_version())


@router.get("/api/status", response_model=StatusOut, summary="What the index holds (mmsearch status)")
def status(state: ServerState = Depends(get_state)) -> StatusOut:
    with state.using() as engine:
        engine.check_database()
        data = engine.status().to_dict()
        modalities = sorted(engine.registry.modalities)
    return StatusOut(**data, modalities=modalities)


@router.get("/api/plugins", response_model=list[PluginOut], summary="Installed plugins (mmsearch plugins)")
def plugins(state: ServerState = Depends(get_state)) -> list[PluginOut]:
    engine = state.engine
    return [PluginOut(**row) for row in describe_plugins(engine.pm, engine.registry)]


@router.get("/api/models", response_model=list[ModelOut], summary="Embedders and whether they work here (mmsearch models)")
def models(state: ServerState = Depends(get_state)) -> list[ModelOut]:
    rows = []
    for entry in sorted(state.engine.registry.embedders.values(), key=lambda r: (-r.obj.priority, r.name)):
        embedder = entry.obj
        info = embedder.info()
        rows.append(ModelOut(name=entry.name, plugin=entry.plugin, space=embedder.space.key, dim=int(embedder.dim),
                             kinds=sorted(embedder.kinds), available=info.available, weights=info.weights, detail=info.detail))
    return rows


@router.post("/api/remove", response_model=RemovedOut, summary="Forget media at or below paths (files stay on disk)")
def remove(body: PathsIn, state: ServerState = Depends(get_state)) -> RemovedOut:
    if state.jobs.running():
        raise HTTPException(409, "an indexing job is running; remove after it ends (or cancel it)")
    roots = state.job_roots()
    targets = [within_roots(p, roots) for p in body.paths]
    with state.using() as engine:
        return RemovedOut(removed=engine.remove(targets))


def _version() -> str:
    try:
        return version("mmsearch")
    except PackageNotFoundError:
        return "unknown"
