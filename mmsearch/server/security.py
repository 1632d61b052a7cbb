"""Checks every request passes: the token, the upload size, and paths that must stay inside a root."""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs

from fastapi import HTTPException

from ..paths import decode_relpath, encode_relpath, printable

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "mmsearch_token"
#: Whether a backslash is an ordinary character in a file name here (POSIX), not a separator.
BACKSLASH_IN_NAMES = os.sep == "/" and os.altsep is None


class TokenGate:
    """Every HTTP request must carry the token: ``Authorization: Bearer T``, the cookie, or
    ``?token=T`` (for the first page load in a browser; the answer then sets the cookie so that
    images and players on the page authenticate too). Compared in constant time."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        offered = _bearer(headers.get("authorization", "")) or _cookie(headers.get("cookie", ""))
        from_query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [None])[0]
        if not self._ok(offered) and not self._ok(from_query):
            await _json(send, 401, "this server needs a token: send 'Authorization: Bearer TOKEN' or open the page as /?token=TOKEN",
                        [(b"www-authenticate", b"Bearer")])
            return
        if self._ok(from_query) and not self._ok(offered):
            await self.app(scope, receive, _setting_cookie(send, from_query or ""))
            return
        await self.app(scope, receive, send)

    def _ok(self, offered: str | None) -> bool:
        return offered is not None and hmac.compare_digest(offered.encode(), self.token)


class UploadLimit:
    """Refuses a request body over the limit by its Content-Length, before anything is read or
    spooled; bodies without one are counted as they stream in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _json(send, 413, self.message())
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, self.message())
            return message

        await self.app(scope, counted, send)

    def message(self) -> str:
        return f"upload too large: the limit is {self.limit // (1024 * 1024)} MB (serve --max-upload-mb)"


def safe_relpaths(relpath: str) -> list[PurePosixPath]:
    """The OS paths, relative to a root, that a name in a URL may stand for, the likelier first:
    the name as the index stores it (``\\xNN`` for a byte that is not UTF-8, a backslash doubled;
    see :mod:`mmsearch.paths`), as ``file_url`` spells it, and the name exactly as written, where
    a backslash is an ordinary character. Refuses NUL, absolute paths and ``..`` in any reading."""
    if not relpath:  # /files/1/ : the name is missing, not misplaced (said "paths must be relative" about "")
        raise HTTPException(400, "no file named: give its path relative to the library root, as file_url has it (/files/ROOT/PATH)")
    if "\x00" in relpath:
        raise HTTPException(400, f"{printable(relpath)}: NUL is not allowed in a path")
    readings = _readings(relpath)
    bad = HTTPException(400, f"{printable(relpath)}: paths must be relative to a library root, without '..'")
    if not relpath or not readings:
        raise bad
    paths = [PurePosixPath(r) for r in readings]
    if any(p.is_absolute() or ".." in p.parts for p in paths):
        raise bad
    return paths


def _readings(relpath: str) -> list[str]:
    if "\\" not in relpath:
        return [relpath]
    stored = decode_relpath(relpath)
    readings = [stored] if encode_relpath(stored) == relpath else []
    # Where a backslash separates folders it could step out of the root; there only the stored form is read.
    return readings + [relpath] if BACKSLASH_IN_NAMES else readings


def inside(root: Path, candidate: Path) -> Path:
    """``candidate`` with symlinks resolved, if it lies inside ``root`` (resolved too); a symlink
    inside the root that points outside is refused."""
    real_root = root.resolve()
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise HTTPException(404, f"{candidate}: no such file") from None
    if real != real_root and real_root not in real.parents:
        raise HTTPException(403, f"{candidate}: resolves outside the library {root}; not served")
    return real


def _bearer(value: str) -> str | None:
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _cookie(value: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(value)
    except Exception:  # noqa: BLE001 - a malformed cookie header is just no token
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


def _setting_cookie(send: Send, token: str) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
            message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode("latin-1"))]
        await send(message)

    return wrapped


async def _json(send: Send, status: int, error: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": error}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def within_roots(raw: str, roots: list[Path]) -> Path:
    """An absolute server path inside one of ``roots`` (symlinks resolved), else 400/403."""
    path = Path(raw)
    if not path.is_absolute():
        raise HTTPException(400, f"{raw}: give an absolute path on the server (inside a library root)")
    if not path.exists():
        raise HTTPException(404, f"{raw}: no such file or folder on the server")
    for root in roots:
        try:
            return inside(root, path)
        except HTTPException:
            continue
    raise HTTPException(403, f"{raw}: not inside a library root of this server ({', '.join(map(str, roots)) or 'none yet'}); "
                             "start the server with --root to allow it")


class PlainErrorsAsJson:
    """Turns a plain-text error that a framework layer answers by itself (Starlette's "Invalid
    host header", a malformed Range) into ``{"error": ...}``, the shape every other error has."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body = b""

        async def rewrite(message: Message) -> None:
            nonlocal held, body
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if message["status"] >= 400 and content_type.startswith(b"text/plain"):
                    held = message  # wait for the body, then answer in JSON
                    return
            elif held is not None and message["type"] == "http.response.body":
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    kept = [(k, v) for k, v in held.get("headers", []) if k.lower() not in (b"content-type", b"content-length")]
                    await _json(send, held["status"], body.decode("utf-8", "replace").strip() or "request refused", kept)
                return
            await send(message)

        await self.app(scope, receive, rewrite)
