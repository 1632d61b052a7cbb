"""``/api/jobs``: index a path inside a library root in the background; progress by polling or
server-sent events; cancel."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import asdict

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import StreamingResponse

from ..errors import MMSearchError
from .jobs import JobView
from .schemas import JobIn, JobOut
from .security import within_roots
from .state import ServerState, get_state

router = APIRouter(tags=["jobs"])
POLL_S = 0.25


@router.post("/api/jobs", response_model=JobOut, status_code=202, summary="Start indexing a path inside a library root")
def start(body: JobIn, state: ServerState = Depends(get_state)) -> JobOut:
    target = within_roots(body.path, state.job_roots())
    state.engine.check_database()  # a job's own Engine would create a new, empty index in its place
    try:
        view = state.jobs.start(target)
    except MMSearchError as exc:
        raise HTTPException(409, str(exc)) from None
    return _out(view)


@router.get("/api/jobs", response_model=list[JobOut], summary="All jobs of this server, newest first")
def listing(state: ServerState = Depends(get_state)) -> list[JobOut]:
    return [_out(v) for v in state.jobs.all()]


@router.get("/api/jobs/{job_id}", response_model=JobOut, summary="A job's progress")
def one(job_id: str, state: ServerState = Depends(get_state)) -> JobOut:
    return _out(_get(state, job_id))


@router.delete("/api/jobs/{job_id}", response_model=JobOut, summary="Cancel a job (committed batches stay)")
def cancel(job_id: str, state: ServerState = Depends(get_state)) -> JobOut:
    _get(state, job_id)
    return _out(state.jobs.cancel(job_id))  # type: ignore[arg-type]


@router.get("/api/jobs/{job_id}/events", summary="Progress as server-sent events until the job ends")
async def events(job_id: str, state: ServerState = Depends(get_state)) -> StreamingResponse:
    _get(state, job_id)

    async def stream() -> AsyncIterator[str]:
        last = None
        while True:
            view = state.jobs.get(job_id)
            assert view is not None
            if view != last:
                yield f"data: {json.dumps(asdict(view))}\n\n"
                last = view
            if view.over:
                return
            await asyncio.sleep(POLL_S)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def _get(state: ServerState, job_id: str) -> JobView:
    view = state.jobs.get(job_id)
    if view is None:
        raise HTTPException(404, f"no job {job_id!r} on this server; list them at /api/jobs")
    return view


def _out(view: JobView) -> JobOut:
    return JobOut(**{k: v for k, v in asdict(view).items()})


