"""``/api/search``: the query language over GET, and example files (uploads) over POST."""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import asdict
from pathlib import Path, PurePath
from typing import Annotated
from urllib.parse import quote, unquote

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile

from ..paths import decode_relpath, encode_relpath, not_utf8, printable, storable
from ..errors import MMSearchError, ModelUnavailableError, QueryError
from ..search.parse import NUMBER, check_bounds, date_value, parse
from ..search.query import FILE, Filters, QueryPart, file_part
from ..search.query import Query as SearchQuery
from ..types import Hit
from . import wire
from .schemas import EvidenceOut, HitOut, SearchForm, SearchOut, SearchParams
from .state import ServerState, get_state

router = APIRouter(tags=["search"])
NAMED_FILE = "example files cannot be named in a query sent over HTTP (the server would read its own disk); upload them (POST /api/search, field 'files') or quote the words"
_PATHLIKE = re.compile(rf"^[-+]?(?:{NUMBER}:)?(?:file:|\.{{1,2}}/|/|~/)")
#: What a search is made of, in this API's words (the CLI's errors name --image instead).
INPUTS = "a text query (q), an example file (files), or both"
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


@router.get("/api/search", response_model=SearchOut, summary="Search in the query language")
def search_get(params: Annotated[SearchParams, Query()], state: ServerState = Depends(get_state)) -> SearchOut:
    return _run(state, _parse(params.q), params)


@router.post("/api/search", response_model=SearchOut, summary="Search with uploaded example files (and text)")
def search_post(request: Request, params: Annotated[SearchForm, Form()],
                files: Annotated[list[UploadFile], File()] = [],  # noqa: B006
                state: ServerState = Depends(get_state)) -> SearchOut:
    _require_form(request)
    with tempfile.TemporaryDirectory(prefix="mmsearch-upload-") as tmp:
        copies = [_save(upload, Path(tmp), n) for n, upload in enumerate(files)]
        saved = [(path, shown) for path, shown, _ in copies]
        uploads = [path for path, _ in saved]
        try:
            for path, shown in saved:
                if Path(path).stat().st_size == 0:
                    raise QueryError(f"{shown}: the uploaded file is empty")
            if params.query:
                try:
                    data = json.loads(params.query)
                except ValueError as exc:
                    raise QueryError(f"the 'query' field is not JSON ({exc})") from None
                query = wire.query_from_wire(data, uploads)
            else:
                extra = [file_part(u) for u in uploads]
                query = _parse(params.q, extra) if params.q.strip() else (SearchQuery.build(files=uploads) if uploads else None)
            # Leg names carry the example's file name: the client's, as a local search shows it
            # (the CLI's output is the same through a server), not the private copy's.
            return _relabel(_run(state, query, params), {Path(path).name: label for path, _, label in copies})
        except MMSearchError as exc:
            message = str(exc)
            # The server's private copy means nothing to the client: name the upload as it was
            # sent, whether the message holds the copy's whole path or its name alone.
            for path, shown in saved:
                message = re.sub(rf"(?:{re.escape(tmp)}/)?\b{re.escape(Path(path).name)}(?![\w.])", lambda _: shown, message)
            if message == str(exc) or isinstance(exc, ModelUnavailableError):
                raise
            raise QueryError(message) from exc


def _require_form(request: Request) -> None:
    """Form fields are all this endpoint reads: any other body (JSON, say) would be ignored and
    the search run with defaults, so it is refused instead."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in FORMS:
        raise HTTPException(415, f"POST /api/search takes multipart/form-data (fields q, k, offset, …; files = example "
                                 f"files), not {ctype or 'a body without a Content-Type'}; for text alone use GET /api/search?q=…")


def _parse(q: str, extra: list[QueryPart] | None = None) -> SearchQuery | None:
    """The query language, minus file names: over HTTP an example file must be an upload
    (``extra``: the uploads' parts, which a query of filters alone still narrows)."""
    extra = extra or []
    if not q.strip():
        return None
    if "\ufffd" in q:  # what the URL decoder makes of a byte that is not UTF-8 (q=caf%E9)
        raise QueryError("the query holds bytes that are not UTF-8 (decoded as \ufffd); percent-encode its UTF-8 bytes, as the web page and the CLI do")
    unquoted = re.sub(r'"[^"]*"', " ", q)
    if any(_PATHLIKE.match(token) for token in unquoted.split()):
        raise QueryError(NAMED_FILE)
    query = parse(q, extra, INPUTS)
    if any(part.kind == FILE and part not in extra for part in query.parts):
        raise QueryError(NAMED_FILE)
    return query


#: The longest client file name an error message repeats (a name may be any length in a header).
SHOWN_NAME_CHARS = 80
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,16}$")


def _relabel(out: SearchOut, labels: dict[str, str]) -> SearchOut:
    def fix(text: str) -> str:
        for copy, label in labels.items():
            text = re.sub(rf"(?<![\w.-]){re.escape(copy)}(?=@)", lambda _: label, text)
        return text

    for hit in out.hits:
        hit.legs = {fix(leg): score for leg, score in hit.legs.items()}
        for evidence in hit.evidence:
            evidence.leg = fix(evidence.leg)
        hit.explain = fix(hit.explain) if hit.explain is not None else None
    return out


def _save(upload: UploadFile, folder: Path, n: int) -> tuple[str, str, str]:
    """A private copy under a name made here, ``upload-N`` plus the client's extension (which
    decides the modality); the client's name as errors show it; and as leg names show it. The client's own name was
    used before, and one over 255 bytes failed with "File name too long" (a 500): a header may
    hold any name, with slashes, NUL or bytes that are not UTF-8."""
    sent = unquote(PurePath((upload.filename or "").replace("\\", "/")).name)
    extension = _EXTENSION.search(sent)
    target = folder / f"upload-{n}{extension.group(0).lower() if extension else ''}"
    shown = printable(storable(sent)) if sent not in ("", ".", "..") else f"example {n}"
    if len(shown) > SHOWN_NAME_CHARS:
        shown = shown[: SHOWN_NAME_CHARS - 1] + "…"
    with target.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            out.write(chunk)
    return str(target), shown, storable(sent) or target.name


def _run(state: ServerState, query: SearchQuery | None, params: SearchParams) -> SearchOut:
    from ..cli.search_cmd import check_types

    if query is None:
        raise QueryError(f"nothing to search for: give {INPUTS}")
    for name, value in (("path", params.path), ("after", params.after), ("before", params.before), *(("type", t) for t in params.type)):
        if value and "\ufffd" in value:  # a byte that is not UTF-8 matched nothing, answered 200 (an outside probe)
            raise QueryError(f"the {name} parameter holds bytes that are not UTF-8 (decoded as \ufffd); percent-encode its UTF-8 bytes")
    after = date_value("after", params.after) if params.after else None
    before = date_value("before", params.before) if params.before else None
    types = frozenset(t.strip() for v in params.type for t in v.split(",") if t.strip())
    query = query.with_filters(Filters(types, params.path or None, after, before))
    check_bounds(query.filters)  # after=2025&before=2024 matches nothing: say so, as the query language does
    started = time.perf_counter()
    with state.using() as engine:
        check_types(query, set(engine.registry.modalities))
        hits = engine.search(query, k=params.k, offset=params.offset, min_score=params.min_score, fuser=params.fuser)
    took = (time.perf_counter() - started) * 1000
    roots = {str(path): rid for rid, path in state.library_roots().items()}
    return SearchOut(hits=[hit_out(h, roots, params.explain) for h in hits], k=params.k, offset=params.offset, took_ms=round(took, 2))


def hit_out(hit: Hit, roots: dict[str, int], explain: bool) -> HitOut:
    # hit.path is the stored form (\xNN escapes for a name that is not UTF-8), abspath the OS form.
    root = hit.abspath[: len(hit.abspath) - len(decode_relpath(hit.path))].rstrip("/") or "/"
    rid = roots.get(root)
    file_url = thumb_url = None
    if rid is not None:
        rel = quote(hit.path)
        file_url = f"/files/{rid}/{rel}"
        best = hit.best
        at = best.locator.start if best is not None and hit.modality == "video" else None
        thumb_url = f"/thumbs/{rid}/{rel}" + (f"?t={at:g}" if at is not None else "")
    undecodable = not_utf8(hit.abspath)
    return HitOut(
        media_id=hit.media_id, path=hit.path, abspath=encode_relpath(hit.abspath) if undecodable else hit.abspath,
        abspath_bytes=quote(os.fsencode(hit.abspath)) if undecodable else None, modality=hit.modality, score=hit.score,
        legs=dict(hit.legs), evidence=[EvidenceOut(**asdict(e)) for e in hit.evidence],
        link=encode_relpath(hit.link()) if undecodable else hit.link(), file_url=file_url, thumb_url=thumb_url,
        explain=hit.explain() if explain else None,
    )
