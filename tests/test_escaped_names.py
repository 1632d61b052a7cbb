"""A file whose name is not UTF-8 is stored and shown with ``\\xNN`` escapes (issue 10, item 4);
the commands that take such a name back — ``Engine.remove`` and the server's ``/files`` and
``/thumbs`` routes — find the file by either spelling, and the escapes open no way out of a root."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest

from mmsearch.paths import encode_relpath

RAW_NAME = b"caf\xe9 notes.txt"  # Latin-1, not UTF-8


@pytest.fixture
def odd_library(tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "plain.txt").write_text("pasta boiled in salted water\n")
    with open(os.path.join(os.fsencode(lib), RAW_NAME), "wb") as f:
        f.write(b"a volcano erupts lava and ash\n")
    return lib


def _shown() -> str:
    return encode_relpath(os.fsdecode(RAW_NAME))


def _paths(engine) -> set[str]:  # type: ignore[no-untyped-def]
    return {h.path for h in engine.search("volcano lava pasta water", k=10, min_score=0)}


@pytest.mark.parametrize("spelling", ["os", "shown"])
def test_remove_takes_the_os_name_or_the_shown_one(open_engine, odd_library: Path, spelling: str) -> None:  # type: ignore[no-untyped-def]
    engine = open_engine()
    engine.index([odd_library])
    assert _paths(engine) == {"plain.txt", _shown()}
    target = os.fsdecode(os.path.join(os.fsencode(odd_library), RAW_NAME)) if spelling == "os" else f"{odd_library}/{_shown()}"
    assert engine.remove([target]) == 1
    assert _paths(engine) == {"plain.txt"}


def test_the_server_serves_an_escaped_name_and_refuses_escaped_traversal(open_engine, odd_library: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("fastapi", reason="the server extra is not installed")
    from fastapi.testclient import TestClient

    from mmsearch.server.app import create_app

    engine = open_engine()
    engine.index([odd_library])
    api = TestClient(create_app(engine, open_engine))
    hit = next(h for h in api.get("/api/search", params={"q": "volcano lava", "min_score": 0}).json()["hits"] if h["path"] == _shown())
    assert api.get(hit["file_url"]).content == b"a volcano erupts lava and ash\n"
    assert api.get(hit["thumb_url"]).status_code == 200
    root = hit["file_url"].split("/")[2]
    secret = odd_library.parent / "secret.txt"
    secret.write_text("not for the web")
    for sneaky in ("\\x2e\\x2e/secret.txt", "..\\x2fsecret.txt", "\\x2fetc/passwd", "a\\qb"):
        response = api.get(f"/files/{root}/{quote(sneaky)}")
        assert response.status_code in (400, 404), (sneaky, response.status_code)
        assert b"not for the web" not in response.content
