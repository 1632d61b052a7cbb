"""A small HTTP client for ``mmsearch search`` (standard library: importing httpx would cost the
CLI more than the search itself)."""

from __future__ import annotations

import json
import mimetypes
import os
import secrets
import urllib.error
import urllib.request
from urllib.parse import quote, urlsplit
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MMSearchError
from ..search.query import Query
from ..types import Hit
from . import discovery, wire

TOKEN_ENV = "MMSEARCH_TOKEN"


class ServerUnavailable(MMSearchError):
    """The server did not answer (refused, timed out, or not an mmsearch server for this index)."""


@dataclass(frozen=True)
class Client:
    url: str
    token: str | None = None
    timeout: float = 120.0

    def health(self, timeout: float = 2.0) -> dict[str, Any]:
        return self._call("GET", "/api/health", None, {}, timeout)

    def search(self, query: Query, *, k: int, offset: int, min_score: float | None, fuser: str) -> list[Hit]:
        data, files = wire.query_to_wire(query)
        fields = {"query": json.dumps(data), "k": str(k), "offset": str(offset), "fuser": fuser}
        if min_score is not None:
            fields["min_score"] = repr(min_score)
        body, ctype = _multipart(fields, [Path(f) for f in files])
        answer = self._call("POST", "/api/search", body, {"Content-Type": ctype}, self.timeout)
        return [wire.hit_from_wire(h) for h in answer["hits"]]

    def _call(self, method: str, path: str, body: bytes | None, headers: dict[str, str], timeout: float) -> Any:
        headers = {**headers, "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            request = urllib.request.Request(self.url.rstrip("/") + path, data=body, headers=headers, method=method)
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read())["error"]
            except (ValueError, KeyError, TypeError):
                raise ServerUnavailable(f"{self.url} answered HTTP {exc.code}, not like an mmsearch server") from None
            raise MMSearchError(message) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerUnavailable(f"cannot reach the mmsearch server at {self.url} ({reason}); start `mmsearch serve` "
                                    "or search without --server") from None


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot name an mmsearch server, or None when it can."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        return f"{url!r} is not a URL ({exc}); give the server as http://HOST:PORT, e.g. http://127.0.0.1:8765"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not a server URL; give it as http://HOST:PORT, e.g. http://127.0.0.1:8765"
    return None


def for_index(index: str | None, db: str | None) -> Client | None:
    """A client for the live server of this index (found through its discovery file), or None when
    there is none, it is stale (dead pid, refused connection) or it serves another database."""
    index_dir = discovery.index_dir_for(index)
    found = discovery.live(index_dir)
    if found is None:
        return None
    client = Client(found.url, os.environ.get(TOKEN_ENV) or None)
    try:
        health = client.health(timeout=2.0)
    except MMSearchError:
        return None  # stale file, or a token we lack: search in-process instead
    if health.get("index_dir") != str(index_dir) or (db is not None and health.get("db") != _hide_password(db)):
        return None
    return client


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _multipart(fields: dict[str, str], files: list[Path]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    chunks: list[bytes] = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for file in files:
        ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        # Only the suffix matters to the server (it picks the modality); keep the header ASCII-safe.
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{quote(file.name)}"\r\nContent-Type: {ctype}\r\n\r\n'
        chunks += [head.encode(), file.read_bytes(), b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"
