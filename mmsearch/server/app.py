"""The FastAPI application: routes, one-line JSON errors, the token gate, the web page."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from ..errors import IndexGoneError, MMSearchError, ModelUnavailableError
from ..paths import storable
from . import api_info, api_jobs, api_media, api_search
from .config import ServerConfig
from .jobs import Jobs, OpenEngine
from .schemas import ErrorOut
from .security import PlainErrorsAsJson, TokenGate, UploadLimit
from .state import ServerState

if TYPE_CHECKING:
    from ..engine import Engine

STATIC = Path(__file__).with_name("static")


def create_app(engine: Engine, open_engine: OpenEngine, config: ServerConfig | None = None) -> FastAPI:
    """An app over ``engine`` (searches, status, removal); indexing jobs open their own Engine
    with ``open_engine``. The caller owns ``engine`` and closes it after the app stops."""
    config = config or ServerConfig()
    state = ServerState(engine, Jobs(open_engine), config, threading.Lock())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.jobs.shutdown()

    docs = _docs_assets()
    app = FastAPI(title="mmsearch", summary="Search a library of photos, documents, recordings and videos.",
                  lifespan=lifespan, responses={400: {"model": ErrorOut}, 404: {"model": ErrorOut}},
                  docs_url=None if docs else "/docs", redoc_url=None)
    app.state.mmsearch = state
    for module in (api_search, api_info, api_jobs, api_media):
        app.include_router(module.router)
    _errors(app)
    if docs:
        _offline_docs(app, docs)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # Added last = outermost: the host name, then CORS, then the token, before anything else runs.
    # CORS outside the token: a browser's preflight never carries the token, and answered 401 it
    # kept every page on an allowed origin from sending one (an outside probe).
    app.add_middleware(UploadLimit, limit=config.max_upload_bytes)  # type: ignore[arg-type]
    if config.token:
        app.add_middleware(TokenGate, token=config.token)  # type: ignore[arg-type]
    if config.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    if config.allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts))
    app.add_middleware(PlainErrorsAsJson)  # type: ignore[arg-type]
    return app


def _docs_assets() -> Path | None:
    """Swagger UI's files from the ``swagger-ui-bundle`` package (the ``server`` extra), so /docs
    works offline; FastAPI's own /docs loads them from a CDN. None when it is not installed."""
    try:
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]
    except ImportError:
        return None
    folder = Path(swagger_ui_path)
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def _offline_docs(app: FastAPI, assets: Path) -> None:
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse

    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title="mmsearch API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


def _errors(app: FastAPI) -> None:
    """Every error is ``{"error": "one line"}``, the text the CLI would print after ``Error:``."""

    @app.exception_handler(MMSearchError)
    async def mmsearch_error(request: Request, exc: MMSearchError) -> JSONResponse:
        # The server cannot answer (no weights, its index deleted under it): not the request's fault.
        return error_response(str(exc), 503 if isinstance(exc, (ModelUnavailableError, IndexGoneError)) else 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(str(exc.detail), exc.status_code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {_plain(e['msg'])}" for e in exc.errors())
        return error_response(f"invalid request: {problems}", 422)


def error_response(message: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one JSON error shape. A message quoting what the client sent may hold a lone surrogate
    (JSON allows "\\ud800"), which UTF-8 cannot encode: rendering it failed, and the error
    became a 500. Such characters are written as \\xNN, as the CLI shows undecodable names."""
    return JSONResponse({"error": storable(message)}, status_code=status, headers=headers)


def _plain(message: str) -> str:
    """Validation messages in the client's terms rather than the framework's."""
    if "Expected UploadFile" in message:  # `-F files=` with no @file sends a text field
        return "must be an uploaded file (curl -F files=@photo.jpg); this field held text"
    return message
