"""``/files/{root}/{path}`` (the original, with HTTP Range so players seek) and
``/thumbs/{root}/{path}``: only indexed files, only inside their library root."""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.convertors import Convertor, register_url_convertor

from ..paths import encode_relpath, printable
from ..store.models import Media
from .security import inside, safe_relpaths
from .state import ServerState, get_state
from .thumbs import thumbnail

router = APIRouter(tags=["media"])
CACHE = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
#: Indexed files that a browser would run script from (an HTML page, an SVG): served in a sandbox,
#: an origin of their own with scripts off. An outside probe's indexed evil.html read /api/status
#: (and could have removed media or started jobs) when opened from a search result.
ACTIVE_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/xsl"})
SANDBOX = {"Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"}


class AnyPath(Convertor[str]):
    """Starlette's ``path`` is ``.*``, which stops at a newline: a file named ``a\nb`` (indexed
    like any other) would be a 404. This one takes every character; the checks come after."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", AnyPath())


def locate(state: ServerState, root_id: int, relpath: str) -> tuple[Path, str]:
    """The real path and modality of an indexed file, refusing anything that leaves its root."""
    readings = safe_relpaths(relpath)
    root = state.library_roots().get(root_id)
    if root is None:
        raise HTTPException(404, f"no library with id {root_id}")
    rel, modality = _indexed(state, root_id, readings)
    real = inside(root, root / rel)
    if modality is None or not real.is_file():
        raise HTTPException(404, f"{printable(relpath)}: not an indexed file of library {root}")
    return real, modality


def _indexed(state: ServerState, root_id: int, readings: list[PurePosixPath]) -> tuple[PurePosixPath, str | None]:
    """The first reading of the URL's name that is an indexed file, with its modality; else the
    first reading (whose checks then give the error)."""
    with Session(state.engine.db) as session:
        for rel in readings:
            modality = session.scalar(select(Media.modality).where(
                Media.root_id == root_id, Media.relpath == encode_relpath(rel.as_posix()), Media.status == "indexed"))
            if modality is not None:
                return rel, modality
    return readings[0], None


@router.head("/files/{root_id}/{relpath:anypath}", include_in_schema=False)  # a client asking the size and type (was 405)
@router.get("/files/{root_id}/{relpath:anypath}", summary="The original file (Range requests supported)")
def original(root_id: int, relpath: str, state: ServerState = Depends(get_state)) -> FileResponse:
    real, _ = locate(state, root_id, relpath)
    kind = (mimetypes.guess_type(real.name)[0] or "").lower()
    headers = {**CACHE, **SANDBOX} if kind in ACTIVE_TYPES or kind.endswith("+xml") else CACHE
    return FileResponse(real, headers=headers, content_disposition_type="inline", filename=encode_relpath(real.name))


@router.get("/thumbs/{root_id}/{relpath:anypath}", summary="A thumbnail: the image, the video frame at t, or an icon")
def thumb(root_id: int, relpath: str, t: float | None = None, state: ServerState = Depends(get_state)) -> FileResponse:
    real, modality = locate(state, root_id, relpath)
    out = thumbnail(real, modality, t, state.thumbs_dir(), state.config.thumb_px)
    return FileResponse(out, headers=CACHE)
