"""What the server refuses by default: each test names the attack and checks the refusal."""

from __future__ import annotations

import json

import os
from pathlib import Path
from urllib.parse import quote

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed: pip install -e '.[server]'")

from click.testing import CliRunner  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from mmsearch.cli import cli  # noqa: E402
from mmsearch.errors import ConfigError  # noqa: E402
from mmsearch.server.app import create_app  # noqa: E402
from mmsearch.server.config import ServerConfig, check_bind  # noqa: E402

TOKEN = "s3cret-token"


@pytest.fixture
def indexed(open_engine, library: Path):  # type: ignore[no-untyped-def]
    engine = open_engine()
    engine.index([library])
    return engine


def client(engine, open_engine, **config) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(create_app(engine, open_engine, ServerConfig(**config)))


def _root_id(api: TestClient) -> int:
    return int(api.get("/api/search", params={"q": "cat"}).json()["hits"][0]["file_url"].split("/")[2])


def test_binding_off_loopback_needs_a_token(tmp_path: Path) -> None:
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    with pytest.raises(ConfigError, match="exposes your library to the network; set a token with --token"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", TOKEN)
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "i"), "serve", "--host", "0.0.0.0"], env={"MMSEARCH_TOKEN": ""})
    assert result.exit_code == 1 and result.stderr.startswith("Error: serving on 0.0.0.0 exposes your library")
    assert not (tmp_path / "i").exists()  # refused before anything was opened


def test_token_is_checked_on_every_request(indexed, open_engine) -> None:  # type: ignore[no-untyped-def]
    api = client(indexed, open_engine, token=TOKEN)
    for path in ("/", "/docs", "/openapi.json", "/api/status", "/api/search?q=cat", "/static/app.js", "/files/1/photos/cat.png"):
        refused = api.get(path)
        assert refused.status_code == 401, path
        assert refused.json()["error"].startswith("this server needs a token")
        assert api.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert api.post("/api/jobs", json={"path": "/"}).status_code == 401
    assert api.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    # A browser opens /?token=…; the answer sets a cookie so thumbnails and players authenticate.
    first = api.get(f"/?token={TOKEN}")
    assert first.status_code == 200 and "HttpOnly" in first.headers["set-cookie"]
    assert api.get("/api/search", params={"q": "cat"}).status_code == 200  # the client kept the cookie


def test_paths_never_leave_the_library(indexed, open_engine, library: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path / "outside.txt"
    outside.write_text("private")
    (library / "photos" / "escape.png").symlink_to(outside)
    api = client(indexed, open_engine)
    rid = _root_id(api)
    assert api.get(f"/files/{rid}/photos/cat.png").status_code == 200
    dots = api.get(f"/files/{rid}/%2e%2e/outside.txt")  # percent-encoded so no client normalises it away
    assert dots.status_code == 400 and "without '..'" in dots.json()["error"]
    assert api.get(f"/thumbs/{rid}/photos/%2e%2e/%2e%2e/outside.txt").status_code == 400
    nul = api.get(f"/files/{rid}/photos/cat.png%00.txt")
    assert nul.status_code == 400 and nul.json()["error"] == "photos/cat.png\\x00.txt: NUL is not allowed in a path"
    absolute = api.get(f"/files/{rid}/{quote(str(outside))}")
    assert absolute.status_code == 400  # "//tmp/…": an absolute path is refused, not joined
    link = api.get(f"/files/{rid}/photos/escape.png")
    assert link.status_code == 403 and "resolves outside the library" in link.json()["error"]
    assert "private" not in link.text
    hidden = api.get(f"/files/{rid}/.hidden/secret.png")  # inside the root but never indexed
    assert hidden.status_code == 404
    assert api.get(f"/files/{rid}/photos/corrupt.jpg").status_code == 404  # failed, not indexed
    assert api.get("/files/999/photos/cat.png").status_code == 404


def test_jobs_only_inside_library_roots(indexed, open_engine, library: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    api = client(indexed, open_engine)
    refused = api.post("/api/jobs", json={"path": str(elsewhere)})
    assert refused.status_code == 403 and "not inside a library root" in refused.json()["error"]
    assert api.post("/api/jobs", json={"path": "photos"}).status_code == 400  # relative: which disk would it mean?
    escape = library / "link-out"
    escape.symlink_to(elsewhere, target_is_directory=True)
    assert api.post("/api/jobs", json={"path": str(escape)}).status_code == 403
    assert api.post("/api/remove", json={"paths": [str(elsewhere)]}).status_code == 403
    job = api.post("/api/jobs", json={"path": str(library / "photos")})
    assert job.status_code == 202
    api.app.state.mmsearch.jobs.wait(job.json()["id"], 30)
    allowed = client(indexed, open_engine, roots=(elsewhere,))  # serve --root elsewhere
    assert allowed.post("/api/jobs", json={"path": str(elsewhere)}).status_code == 202


def test_uploads_over_the_limit_are_refused(indexed, open_engine, library: Path) -> None:  # type: ignore[no-untyped-def]
    api = client(indexed, open_engine, max_upload_bytes=2000)
    big = os.urandom(5000)
    response = api.post("/api/search", files=[("files", ("big.png", big, "image/png"))])
    assert response.status_code == 413 and response.json()["error"].startswith("upload too large")
    small = (library / "photos" / "cat.png").read_bytes()
    assert len(small) < 2000
    assert api.post("/api/search", files=[("files", ("cat.png", small, "image/png"))]).status_code == 200


def test_queries_cannot_name_server_files(indexed, open_engine, library: Path) -> None:  # type: ignore[no-untyped-def]
    api = client(indexed, open_engine)
    for q in (str(library / "photos" / "cat.png"), "./secret.png", "file:/etc/passwd", "cat + ~/x.jpg", "2:/etc/hostname"):
        response = api.get("/api/search", params={"q": q})
        assert response.status_code == 400, q
        assert response.json()["error"].startswith("example files cannot be named in a query sent over HTTP")
    assert api.get("/api/search", params={"q": '"./quoted words"'}).status_code == 200
    # The wire form of a query: a part of any kind other than text or an upload must not reach the disk.
    secret = library / "docs" / "pasta.txt"
    for kind in ("File", "image", "FILE", "", "text "):
        part = {"kind": kind, "value": str(secret), "weight": 1}
        response = api.post("/api/search", data={"query": json.dumps({"parts": [part]}), "min_score": "0"})
        assert response.status_code == 400, (kind, response.text)
        assert "must be 'text' or 'file'" in response.json()["error"]
    missing = {"kind": "Text", "value": "/root/nothing.txt", "weight": 1}  # no 500 that tells what exists
    assert api.post("/api/search", data={"query": json.dumps({"parts": [missing]})}).status_code == 400


def test_no_cors_unless_configured(indexed, open_engine) -> None:  # type: ignore[no-untyped-def]
    origin = {"Origin": "https://evil.example"}
    plain = client(indexed, open_engine).get("/api/status", headers=origin)
    assert "access-control-allow-origin" not in plain.headers
    configured = client(indexed, open_engine, cors_origins=("https://app.example",))
    assert configured.get("/api/status", headers={"Origin": "https://app.example"}).headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in configured.get("/api/status", headers=origin).headers


def test_loopback_server_refuses_foreign_host_names(indexed, open_engine) -> None:  # type: ignore[no-untyped-def]
    # DNS rebinding: a web page on evil.example resolving to 127.0.0.1 sends Host: evil.example.
    api = client(indexed, open_engine, allowed_hosts=("127.0.0.1", "localhost"))
    refused = api.get("/api/status", headers={"Host": "evil.example"})
    assert (refused.status_code, refused.json()) == (400, {"error": "Invalid host header"})  # JSON, as every other error
    assert api.get("/api/status", headers={"Host": "127.0.0.1:8765"}).status_code == 200


def test_a_cors_preflight_is_answered_before_the_token_is_asked_for(indexed, open_engine) -> None:  # type: ignore[no-untyped-def]
    """A browser sends no Authorization on a preflight; answered 401 without CORS headers, a page on
    the allowed origin could never send its token (an outside probe)."""
    api = client(indexed, open_engine, token=TOKEN, cors_origins=("https://app.example",))
    preflight = api.options("/api/jobs", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "https://app.example"
    refused = api.options("/api/jobs", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in refused.headers
    assert api.get("/api/status", headers={"Origin": "https://app.example"}).status_code == 401  # the token still guards
    ok = api.get("/api/status", headers={"Origin": "https://app.example", "Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://app.example"


def test_an_indexed_html_or_svg_file_cannot_run_script_on_the_servers_origin(indexed, open_engine, library: Path) -> None:  # type: ignore[no-untyped-def]
    """Stored XSS, from an outside probe: an indexed evil.html opened from a search result ran its
    script on the API's origin and read /api/status (it could as well remove media or start jobs).
    Such files are served sandboxed (an origin of their own, scripts off); others are not sniffed."""
    (library / "docs" / "evil.html").write_text("<html><body><p>holiday plans</p><script>fetch('/api/status')</script></body></html>")
    indexed.index([library])
    api = client(indexed, open_engine)
    root = _root_id(api)
    page = api.get(f"/files/{root}/docs/evil.html")
    assert page.status_code == 200 and page.headers["content-security-policy"].startswith("sandbox")
    assert page.headers["x-content-type-options"] == "nosniff"
    image = api.get(f"/files/{root}/photos/cat.png")
    assert image.status_code == 200 and "content-security-policy" not in image.headers  # PDFs and media play as before
    assert image.headers["x-content-type-options"] == "nosniff"
