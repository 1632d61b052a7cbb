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
def test_a_path_filter_takes_the_os_name_or_the_shown_one(open_engine, odd_library: Path, spelling: str) -> None:  # type: ignore[no-untyped-def]
    """Shell completion types the raw bytes of such a name (a probe: 'No matches.' for them)."""
    engine = open_engine()
    engine.index([odd_library])
    typed = os.fsdecode(RAW_NAME)[:5] if spelling == "os" else _shown()[:7]  # "caf\udce9 " or "caf\\xe9 "
    for pattern in (typed + "*", os.fsdecode(RAW_NAME) if spelling == "os" else _shown()):
        hits = engine.search("volcano lava pasta water", k=10, min_score=0, path=pattern)
        assert [h.path for h in hits] == [_shown()], pattern


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


NAMES = {  # file name as the OS spells it (bytes) -> its content
    b"new\nline.txt": b"a giraffe with a newline\n",
    b"back\\slash.txt": b"a giraffe with a backslash\n",
    RAW_NAME: b"a giraffe not in UTF-8\n",
    b"caf\\xe9 notes.txt": b"a giraffe whose name is the escape\n",  # what RAW_NAME is shown as, for real
}


@pytest.fixture
def hostile_api(open_engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    pytest.importorskip("fastapi", reason="the server extra is not installed")
    from fastapi.testclient import TestClient

    from mmsearch.server.app import create_app

    lib = tmp_path / "hostile"
    lib.mkdir()
    for name, content in NAMES.items():
        with open(os.path.join(os.fsencode(lib), name), "wb") as f:
            f.write(content)
    engine = open_engine()
    engine.index([lib])
    api = TestClient(create_app(engine, open_engine))
    hits = api.get("/api/search", params={"q": "giraffe", "min_score": 0}).json()["hits"]
    assert len(hits) == len(NAMES)
    return api, lib, int(hits[0]["file_url"].split("/")[2]), hits


def test_every_indexed_name_is_served_by_its_url(hostile_api) -> None:  # type: ignore[no-untyped-def]
    api, lib, root, hits = hostile_api
    for hit in hits:
        content = api.get(hit["file_url"])
        assert content.status_code == 200, (hit["path"], content.text)
        assert content.content in NAMES.values()
        assert api.get(hit["thumb_url"]).status_code == 200
    assert api.get(f"/files/{root}/new%0Aline.txt").content == NAMES[b"new\nline.txt"]
    assert api.get(f"/thumbs/{root}/new%0Aline.txt").status_code == 200


def test_a_backslash_in_a_url_may_be_the_name_itself(hostile_api) -> None:  # type: ignore[no-untyped-def]
    api, lib, root, hits = hostile_api
    assert api.get(f"/files/{root}/back%5Cslash.txt").content == NAMES[b"back\\slash.txt"]  # the OS spelling
    assert api.get(f"/files/{root}/back%5C%5Cslash.txt").content == NAMES[b"back\\slash.txt"]  # the stored one (file_url)
    # Both readings of "caf\xe9 notes.txt" are indexed files: the stored form (file_url's) wins.
    assert api.get(f"/files/{root}/{quote(_shown())}").content == NAMES[RAW_NAME]
    assert api.get(f"/files/{root}/{quote(encode_relpath(_shown()))}").content == NAMES[b"caf\\xe9 notes.txt"]


def test_nul_in_a_url_is_refused_for_what_it_is(hostile_api) -> None:  # type: ignore[no-untyped-def]
    api, lib, root, hits = hostile_api
    for url in (f"/files/{root}/new%0Aline.txt%00.png", f"/thumbs/{root}/back%5Cslash.txt%00"):
        refused = api.get(url)
        assert refused.status_code == 400 and refused.json()["error"].endswith(": NUL is not allowed in a path"), url
        assert "\x00" not in refused.json()["error"]


def test_abspath_is_the_real_path_or_says_it_is_not_utf8(hostile_api) -> None:  # type: ignore[no-untyped-def]
    from urllib.parse import unquote_to_bytes

    api, lib, root, hits = hostile_api
    real = {unquote_to_bytes(h["abspath_bytes"]) if h["abspath_bytes"] else os.fsencode(h["abspath"]) for h in hits}
    assert real == {os.path.join(os.fsencode(lib), name) for name in NAMES}
    by_name = {os.path.basename(h["abspath"]): h for h in hits if h["abspath_bytes"] is None}
    assert set(by_name) == {"new\nline.txt", "back\\slash.txt", "caf\\xe9 notes.txt"}
    assert all(h["link"] == h["abspath"] for h in by_name.values())
    odd = next(h for h in hits if h["abspath_bytes"])
    assert odd["abspath"] == f"{lib}/{_shown()}" and odd["path"] == _shown()  # shown as `path` is: for display only


def test_search_json_gives_the_bytes_of_a_name_that_is_not_utf8(odd_library: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A lone surrogate in --json became U+FFFD in jq: the file could not be opened from it."""
    import json
    from urllib.parse import unquote_to_bytes

    from click.testing import CliRunner

    from mmsearch.cli import cli

    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")
    run = lambda *a: CliRunner().invoke(cli, ["--index", str(tmp_path / "idx"), "--embedder", "hash", *a])  # noqa: E731
    assert run("index", str(odd_library)).exit_code == 0
    out = run("search", "volcano lava pasta water", "--min-score", "0", "--json").output
    hits = {h["path"]: h for h in json.loads(out)}
    odd, plain = hits[_shown()], hits["plain.txt"]
    assert unquote_to_bytes(odd["abspath_bytes"]) == os.fsencode(odd_library) + b"/" + RAW_NAME
    assert odd["abspath"] == f"{odd_library}/{_shown()}" and "\\udce9" not in out  # no lone surrogate in the JSON
    assert "abspath_bytes" not in plain and plain["abspath"] == str(odd_library / "plain.txt")
