"""The HTTP API in-process (FastAPI's TestClient): it answers what the Python API answers."""

from __future__ import annotations

import json
import shutil
import time
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed: pip install -e '.[server]'")

from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from conftest import tagged_png  # noqa: E402

from mmsearch.server.app import create_app  # noqa: E402
from mmsearch.testing import fake_plugin  # noqa: E402
from mmsearch.testing.fakes import HashEmbedder  # noqa: E402


@pytest.fixture
def api(open_engine, library: Path) -> TestClient:  # type: ignore[no-untyped-def]
    engine = open_engine()
    engine.index([library])
    return TestClient(create_app(engine, open_engine))


def test_search_ranks_like_the_python_api(api: TestClient, open_engine) -> None:  # type: ignore[no-untyped-def]
    engine = api.app.state.mmsearch.engine
    for params in ({"q": "kitten whiskers"}, {"q": "volcano lava", "k": 2, "offset": 1}, {"q": "sea", "fuser": "rrf"}):
        response = api.get("/api/search", params=params)
        assert response.status_code == 200, response.text
        expected = engine.search(params["q"], k=params.get("k", 10), offset=params.get("offset", 0), fuser=params.get("fuser", "weighted"))
        got = response.json()["hits"]
        assert [(h["path"], h["score"]) for h in got] == [(h.path, h.score) for h in expected]
    top = api.get("/api/search", params={"q": "kitten whiskers"}).json()["hits"][0]
    assert top["path"] == "photos/cat.png" and top["modality"] == "image"
    assert top["file_url"].endswith("/photos/cat.png") and top["thumb_url"].startswith("/thumbs/")
    assert top["explain"] is None


def test_explain_filters_and_min_score(api: TestClient) -> None:
    hits = api.get("/api/search", params={"q": "kitten whiskers", "explain": True}).json()["hits"]
    assert hits[0]["explain"].startswith("photos/cat.png  score=") and "leg " in hits[0]["explain"]
    only_text = api.get("/api/search", params={"q": "kitten whiskers", "type": "text"}).json()["hits"]
    assert only_text and {h["modality"] for h in only_text} == {"text"}
    by_path = api.get("/api/search", params={"q": "kitten", "path": "docs/*"}).json()["hits"]
    assert by_path and all(h["path"].startswith("docs/") for h in by_path)
    assert api.get("/api/search", params={"q": "kitten", "before": "1990-01-01"}).json()["hits"] == []
    strict = api.get("/api/search", params={"q": "kitten whiskers", "min_score": 0.99}).json()["hits"]
    assert [h["path"] for h in strict] == ["photos/cat.png"]


def test_search_by_uploaded_example(api: TestClient, library: Path) -> None:
    data = (library / "photos" / "rocket.png").read_bytes()
    response = api.post("/api/search", files=[("files", ("mine.png", data, "image/png"))], data={"k": "3"})
    assert response.status_code == 200, response.text
    assert response.json()["hits"][0]["path"] == "photos/rocket.png"
    both = api.post("/api/search", files=[("files", ("x.png", data, "image/png"))], data={"q": "rocket launch"})
    assert both.json()["hits"][0]["path"] == "photos/rocket.png"


def test_errors_are_the_cli_one_liners(api: TestClient) -> None:
    negative_only = api.get("/api/search", params={"q": "-night"})
    assert negative_only.status_code == 400
    assert negative_only.json() == {"error": "a query needs at least one positive part; negative parts (-\"night\") only push results down"}
    unknown_type = api.get("/api/search", params={"q": "cat", "type": "hologram"}).json()["error"]
    assert unknown_type.startswith("unknown --type hologram; installed modalities: ")
    assert "no fuser named 'best'" in api.get("/api/search", params={"q": "cat", "fuser": "best"}).json()["error"]
    invalid = api.get("/api/search", params={"q": "cat", "k": 0})
    assert invalid.status_code == 422 and invalid.json()["error"].startswith("invalid request: k: ")
    assert api.get("/api/jobs/nope").json() == {"error": "no job 'nope' on this server; list them at /api/jobs"}


def test_status_plugins_models(api: TestClient) -> None:
    status = api.get("/api/status").json()
    assert status["media"] == {"image": 3, "text": 2} and status["segments"] >= 5
    assert {f["path"].rsplit("/", 1)[-1] for f in status["failures"]} == {"corrupt.jpg", "unreadable.txt"}
    assert "image" in status["modalities"]
    assert any("image" in p["modalities"] for p in api.get("/api/plugins").json())
    assert any(m["name"] == "hash" and m["available"] for m in api.get("/api/models").json())
    assert "/api/search" in api.get("/openapi.json").json()["paths"]


def test_api_docs_page_loads_everything_from_this_server(api: TestClient) -> None:
    """FastAPI's own /docs pulls Swagger UI from a CDN: a blank page offline."""
    import re

    page = api.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""", page.text)
    urls = [a or b for a, b in assets]
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    for url in urls:
        assert api.get(url).status_code == 200, url


def test_remove_forgets_media(api: TestClient, library: Path) -> None:
    response = api.post("/api/remove", json={"paths": [str(library / "docs")]})
    assert response.json() == {"removed": 3}  # pasta, volcano and the unreadable one
    assert all(not h["path"].startswith("docs/") for h in api.get("/api/search", params={"q": "pasta volcano"}).json()["hits"])


def test_thumbnails_are_cached_jpegs_or_icons(api: TestClient) -> None:
    hits = {h["path"]: h for h in api.get("/api/search", params={"q": "kitten pasta", "k": 20}).json()["hits"]}
    thumb = api.get(hits["photos/cat.png"]["thumb_url"])
    assert thumb.headers["content-type"] == "image/jpeg"
    picture = Image.open(BytesIO(thumb.content))
    assert picture.getpixel((10, 10)) == pytest.approx((200, 120, 40), abs=6)  # the cat tile's colour
    index_dir = api.app.state.mmsearch.engine.index_dir
    assert len(list((index_dir / "thumbs").rglob("*.jpg"))) == 1
    assert api.get(hits["docs/pasta.txt"]["thumb_url"]).headers["content-type"] == "image/svg+xml"


def test_original_file_supports_range(api: TestClient, library: Path) -> None:
    hits = api.get("/api/search", params={"q": "pasta", "k": 20}).json()["hits"]
    hit = next(h for h in hits if h["path"] == "docs/pasta.txt")
    whole = (library / "docs" / "pasta.txt").read_bytes()
    part = api.get(hit["file_url"], headers={"Range": "bytes=8-13"})
    assert part.status_code == 206 and part.content == whole[8:14]
    assert part.headers["content-range"] == f"bytes 8-13/{len(whole)}"
    assert api.get(hit["file_url"]).content == whole


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (apt-get install ffmpeg)")
def test_video_thumbnail_is_the_frame_at_the_evidence(open_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("skimage")
    from video_media import photo, slideshow

    lib = tmp_path / "videos"
    lib.mkdir()
    stills = {}
    for name in ("chelsea", "rocket"):
        stills[name] = tmp_path / f"{name}.png"
        photo(name, (160, 120)).save(stills[name])
    slideshow(lib / "two.mp4", [(stills["chelsea"], 2.0), (stills["rocket"], 2.0)], fps=10)  # cat 0-2 s, rocket 2-4 s
    engine = open_engine()
    engine.index([lib])
    api = TestClient(create_app(engine, open_engine))
    hit = api.get("/api/search", params={"q": "anything"}).json()["hits"][0]
    assert hit["modality"] == "video" and "?t=" in hit["thumb_url"]
    base = hit["thumb_url"].split("?")[0]

    def distance(at: float, still: str) -> float:
        shot = np.asarray(Image.open(BytesIO(api.get(base, params={"t": at}).content)).convert("L").resize((32, 24)), float)
        truth = np.asarray(Image.open(stills[still]).convert("L").resize((32, 24)), float)
        return float(np.abs(shot - truth).mean())

    assert distance(0.5, "chelsea") < distance(0.5, "rocket")
    assert distance(3.0, "rocket") < distance(3.0, "chelsea")
    for odd in ("nan", "inf", "-inf"):  # a 500 with a text/plain body before (an outside probe)
        answer = api.get(base, params={"t": odd})
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg", odd


class SlowHash(HashEmbedder):
    """The HashEmbedder, 50 ms per batch: a job that takes long enough to watch and cancel."""

    def embed_batch(self, kind, payloads):  # type: ignore[no-untyped-def]
        time.sleep(0.05)
        return super().embed_batch(kind, payloads)


def _many(folder: Path, count: int) -> Path:
    folder.mkdir()
    for i in range(count):
        tagged_png(folder / f"zebra-{i:03d}.png", f"zebra {i}")
    return folder


def test_job_progress_streams_as_server_sent_events(open_engine, library: Path) -> None:  # type: ignore[no-untyped-def]
    engine = open_engine()
    engine.index([library])
    new = _many(library / "new", 12)
    api = TestClient(create_app(engine, open_engine))
    job = api.post("/api/jobs", json={"path": str(new)}).json()
    with api.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[len("data: "):]) for line in stream.iter_lines() if line.startswith("data: ")]
    assert events[-1]["state"] == "done" and events[-1]["summary"]["added"] == 12
    assert [e["done"] for e in events] == sorted(e["done"] for e in events)
    assert api.get(f"/api/jobs/{job['id']}").json()["state"] == "done"
    assert api.get("/api/search", params={"q": "zebra", "path": "zebra-*", "k": 50}).json()["hits"].__len__() == 12


def test_a_job_waiting_for_another_writer_says_so(open_engine, library: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """It said "looking for files" for up to lock_timeout while the lock holder's name went to the
    server's stderr only."""
    from mmsearch.store.lock import writer_lock

    engine = open_engine()
    engine.index([library])
    new = _many(library / "new", 2)
    api = TestClient(create_app(engine, open_engine))
    with writer_lock(engine.db, engine.index_dir, "test"):
        job = api.post("/api/jobs", json={"path": str(new)}).json()
        deadline = time.monotonic() + 20
        while not (view := api.get(f"/api/jobs/{job['id']}").json())["current"].startswith("Waiting for"):
            assert time.monotonic() < deadline, view
            time.sleep(0.05)
        assert view["state"] == "running" and "writing to the index" in view["current"]
    deadline = time.monotonic() + 30
    while (view := api.get(f"/api/jobs/{job['id']}").json())["state"] == "running":
        assert time.monotonic() < deadline, view
        time.sleep(0.05)
    assert view["state"] == "done" and view["summary"]["added"] == 2


def test_a_cancelled_job_keeps_what_it_committed(open_engine, library: Path) -> None:  # type: ignore[no-untyped-def]
    def slow():  # type: ignore[no-untyped-def]
        return open_engine(plugins=[fake_plugin(SlowHash())], settings={"batch_size": 1, "workers": 1})

    engine = slow()
    engine.index([library])
    new = _many(library / "new", 80)
    api = TestClient(create_app(engine, slow))
    job = api.post("/api/jobs", json={"path": str(new)}).json()
    assert job["state"] == "running" and job["current"].startswith("looking for files")  # not a bare 0/0
    while api.get(f"/api/jobs/{job['id']}").json()["done"] < 2:
        time.sleep(0.05)
    assert api.post("/api/jobs", json={"path": str(new)}).status_code == 409  # one job at a time
    assert api.post("/api/remove", json={"paths": [str(new)]}).status_code == 409
    answer = api.delete(f"/api/jobs/{job['id']}").json()
    assert answer["state"] == "cancelling"  # it stops after the batch in hand, and says so meanwhile
    ended = api.app.state.mmsearch.jobs.wait(job["id"], 30)
    assert ended.state == "cancelled"
    kept = api.get("/api/search", params={"q": "zebra", "path": "zebra-*", "k": 100}).json()["hits"]
    assert 2 <= len(kept) < 80
    again = api.post("/api/jobs", json={"path": str(new)}).json()  # picks up where it stopped
    assert api.app.state.mmsearch.jobs.wait(again["id"], 60).summary["added"] == 80 - len(kept)


@pytest.mark.parametrize("offset", ["99999999999999999999", "9223372036854775808", "100001"])
def test_offset_is_bounded_alike_on_get_and_post(api: TestClient, offset: str) -> None:
    expected = {"error": "invalid request: offset: Input should be less than or equal to 100000"}
    got = api.get("/api/search", params={"q": "giraffe", "offset": offset})
    assert (got.status_code, got.json()) == (422, expected)
    posted = api.post("/api/search", data={"q": "giraffe", "offset": offset}, files=[("files", ("x.txt", b"giraffe", "text/plain"))])
    assert (posted.status_code, posted.json()) == (422, expected)
    deepest = api.get("/api/search", params={"q": "giraffe", "offset": 100000})
    assert deepest.status_code == 200 and deepest.json()["hits"] == []


def test_nan_min_score_is_refused(api: TestClient) -> None:
    refused = api.get("/api/search", params={"q": "cat", "min_score": "nan"})
    assert refused.status_code == 422 and refused.json()["error"].startswith("invalid request: min_score: ")


def test_errors_name_the_http_fields_not_cli_flags(api: TestClient) -> None:
    nothing = "nothing to search for: give a text query (q), an example file (files), or both"
    assert api.get("/api/search", params={"q": "\x00"}).json() == {"error": nothing}
    assert api.get("/api/search", params={"q": "type:image"}).json() == {"error": nothing + "; filters only narrow a search"}
    assert api.post("/api/search", data={"q": "\x00"}).json() == {"error": nothing}
    assert api.post("/api/search", data={"k": "3"}).json() == {"error": nothing}


@pytest.mark.parametrize("body", [{"json": {"q": "kitten"}}, {"content": b"q=kitten", "headers": {"Content-Type": "text/plain"}},
                                  {"content": b""}])
def test_a_search_post_that_is_not_a_form_is_refused(api: TestClient, body: dict) -> None:  # type: ignore[type-arg]
    refused = api.post("/api/search", **body)
    assert refused.status_code == 415, refused.text
    error = refused.json()["error"]
    assert error.startswith("POST /api/search takes multipart/form-data") and "use GET /api/search?q=" in error
    assert api.post("/api/search", data={"q": "kitten"}).json()["hits"]  # a form without files still searches


def test_filters_alone_narrow_an_uploaded_example(api: TestClient, library: Path) -> None:
    data = (library / "photos" / "rocket.png").read_bytes()
    response = api.post("/api/search", data={"q": "type:image"}, files=[("files", ("mine.png", data, "image/png"))])
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    assert hits[0]["path"] == "photos/rocket.png" and {h["modality"] for h in hits} == {"image"}


def test_bad_uploads_are_named_as_the_client_sent_them(api: TestClient) -> None:
    empty = api.post("/api/search", files=[("files", ("holiday.png", b"", "image/png"))])
    assert empty.status_code == 400 and empty.json() == {"error": "holiday.png: the uploaded file is empty"}
    broken = api.post("/api/search", files=[("files", ("holiday.png", b"\x89PNG not really", "image/png"))])
    assert broken.status_code == 400 and "holiday.png" in broken.json()["error"]
    assert "mmsearch-upload-" not in broken.json()["error"]  # the server's private copy is not the client's business
    text_field = api.post("/api/search", data={"files": ""}, files=[("k", (None, "3"))])
    assert text_field.status_code == 422
    assert "must be an uploaded file (curl -F files=@photo.jpg)" in text_field.json()["error"]


def test_an_index_deleted_under_the_server_is_reported_and_never_rebuilt_by_a_job(open_engine, library: Path) -> None:  # type: ignore[no-untyped-def]
    """Searches refused with a 400; health said ok, status gave the old counts, and an indexing
    job quietly built a new, empty index in the deleted one's place."""
    import shutil

    engine = open_engine()
    engine.index([library])
    api = TestClient(create_app(engine, open_engine))
    shutil.rmtree(engine.index_dir)
    search = api.get("/api/search", params={"q": "cat"})
    assert search.status_code == 503 and "deleted or replaced" in search.json()["error"]
    assert api.get("/api/health").json()["ok"] is False  # the CLI then searches the index itself
    assert api.get("/api/status").status_code == 503
    job = api.post("/api/jobs", json={"path": str(library)})
    assert job.status_code == 503 and "restart" in job.json()["error"]
    assert not (engine.index_dir / "index.db").exists()


def test_a_malformed_or_unsatisfiable_range_is_a_json_error(api: TestClient) -> None:
    hits = api.get("/api/search", params={"q": "pasta", "k": 20}).json()["hits"]
    hit = next(h for h in hits if h["path"] == "docs/pasta.txt")
    size = len(api.get(hit["file_url"]).content)
    reversed_range = api.get(hit["file_url"], headers={"Range": "bytes=5-2"})
    assert reversed_range.status_code == 400
    assert reversed_range.json() == {"error": "Range header: start must be less than end"}
    past_the_end = api.get(hit["file_url"], headers={"Range": f"bytes={size + 10}-{size + 20}"})
    assert past_the_end.status_code == 416 and "error" in past_the_end.json()
    assert past_the_end.headers["content-range"] == f"bytes */{size}"  # what a player needs to retry


def test_a_reversed_date_range_in_parameters_is_an_error_as_in_the_query(api: TestClient) -> None:
    reversed_ = api.get("/api/search", params={"q": "cat", "after": "2025-01-01", "before": "2024-01-01"})
    assert reversed_.status_code == 400 and "no file can match" in reversed_.json()["error"]


def test_date_parameters_take_the_query_languages_dates_and_refuse_numbers(api: TestClient) -> None:
    """after=2024 was a 422 about "exact dates", and before=86400 was read as 1970-01-02."""
    everything = [h["path"] for h in api.get("/api/search", params={"q": "pasta", "k": 20, "min_score": 0}).json()["hits"]]
    for params in ({"after": "2000"}, {"after": "2000-06"}, {"after": "2000-06-30", "before": "2999"}):
        got = api.get("/api/search", params={"q": "pasta", "k": 20, "min_score": 0, **params})
        assert got.status_code == 200 and [h["path"] for h in got.json()["hits"]] == everything, params
    assert api.get("/api/search", params={"q": "pasta", "min_score": 0, "before": "2000"}).json()["hits"] == []
    epoch = api.get("/api/search", params={"q": "pasta", "before": "86400"})
    assert epoch.status_code == 400
    assert epoch.json() == {"error": "before='86400' is not a date; use YYYY, YYYY-MM or YYYY-MM-DD, as in the query language's before:"}


def test_a_query_that_is_not_utf8_is_refused_as_on_the_command_line(api: TestClient) -> None:
    """q=caf%E9 (Latin-1) was searched as 'caf\ufffd' and answered 200 with whatever matched."""
    got = api.get("/api/search?q=caf%E9")
    assert got.status_code == 400 and "not UTF-8" in got.json()["error"]
    assert api.get("/api/search?q=caf%C3%A9").status_code == 200  # café, in UTF-8


def test_request_filters_narrow_the_querys_own(api: TestClient) -> None:
    """An app enforcing a view: `q=… type:image` with `type=text` returned both kinds, and after=
    replaced the query's after: (an outside probe). Both now hold; a contradiction is a 400."""
    both = api.get("/api/search", params={"q": "volcano cat type:image,text", "type": "text", "min_score": 0}).json()["hits"]
    assert both and {h["modality"] for h in both} == {"text"}
    clash = api.get("/api/search", params={"q": "volcano type:image", "type": "text"})
    assert clash.status_code == 400 and "no file can be both" in clash.json()["error"]
    later = api.get("/api/search", params={"q": "volcano after:2000", "after": "2999-01-01", "min_score": 0}).json()["hits"]
    assert later == []  # the later bound holds, whichever came from where


def test_a_filter_parameter_that_is_not_utf8_is_refused_and_files_answer_head(api: TestClient) -> None:
    """An app probe: path=%FF matched nothing and answered 200 (the same byte in q is a 400), and
    HEAD on a file (how a client asks its size and type) was a 405."""
    for params in ({"q": "volcano", "path": "docs/\ufffd*"}, {"q": "volcano", "type": "te\ufffdxt"}):
        refused = api.get("/api/search", params=params)
        assert refused.status_code == 400 and "not UTF-8" in refused.json()["error"], params
    url = api.get("/api/search", params={"q": "volcano lava"}).json()["hits"][0]["file_url"]
    head, get = api.head(url), api.get(url)
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == get.headers["content-length"]


@pytest.mark.parametrize("url, body", [
    ("/api/remove", '{"paths": ["\\ud800"]}'),  # a relative path: the refusal quoted it, and could not be encoded
    ("/api/jobs", '{"path": "\\ud800"}'),
    ("/api/remove", '{"paths": ["/tmp/\\udc80"]}'),
    ("/api/jobs", '{"path": "/x\\udfff/y"}'),
])
def test_a_lone_surrogate_in_a_json_body_is_a_json_error_not_a_500(api: TestClient, url: str, body: str) -> None:
    """JSON allows "\\ud800"; the error quoting it could not be encoded and the server answered 500."""
    quiet = TestClient(api.app, raise_server_exceptions=False)
    response = quiet.post(url, content=body.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    assert "lone surrogate" in response.json()["error"] and "send valid UTF-8" in response.json()["error"]


def test_a_lone_surrogate_in_the_query_field_or_an_error_message_is_a_json_error(api: TestClient, library: Path) -> None:
    quiet = TestClient(api.app, raise_server_exceptions=False)
    upload = [("files", ("mine.png", (library / "photos" / "rocket.png").read_bytes(), "image/png"))]
    for query in ('{"parts": [{"kind": "text", "value": "cat", "weight": 1}], "filters": {"path": "\\ud800"}}',
                  '{"parts": [{"kind": "text", "value": "\\ud800", "weight": 1}]}'):
        response = quiet.post("/api/search", data={"query": query}, files=upload)
        assert response.status_code == 400 and "lone surrogate" in response.json()["error"], response.text

    # The handler itself: whatever a route quotes in its error, the answer is JSON.
    from fastapi import HTTPException

    @api.app.get("/api/test-quotes-the-client")
    def quotes() -> None:
        raise HTTPException(400, "\ud800: refused")

    answer = quiet.get("/api/test-quotes-the-client")
    assert answer.status_code == 400 and answer.json() == {"error": "\\xed\\xa0\\x80: refused"}


@pytest.mark.parametrize("name", [b"a" * 300 + b".txt", b"../../etc/passwd.txt", b"dir/sub/x.txt", b"nul\x00in.txt",
                                  b"\xff\xfe not utf8.txt", b"\xed\xa0\x80.txt", "caf\u00e9.txt".encode()])
def test_an_upload_is_saved_under_a_name_of_the_servers_own(api: TestClient, name: bytes) -> None:
    """A name over 255 bytes failed with "File name too long" (a 500); the name is the client's to choose."""
    body = (b'--x\r\nContent-Disposition: form-data; name="files"; filename="' + name + b'"\r\n'
            b"Content-Type: text/plain\r\n\r\nhow to cook pasta\r\n--x--\r\n")
    quiet = TestClient(api.app, raise_server_exceptions=False)
    response = quiet.post("/api/search", content=body, headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert response.status_code == 200, response.text
    assert response.json()["hits"][0]["path"] == "docs/pasta.txt"


def test_errors_about_an_upload_name_it_as_sent_even_a_long_name(api: TestClient) -> None:
    long_name = "b" * 300 + ".png"
    broken = api.post("/api/search", files=[("files", (long_name, b"\x89PNG not really", "image/png"))])
    assert broken.status_code == 400, broken.text
    error = broken.json()["error"]
    assert error.startswith("b" * 40) and "…" in error and len(error) < 300 and "upload-" not in error
    unknown = api.post("/api/search", files=[("files", ("notes.xyz", b"hello", "application/octet-stream"))])
    assert unknown.json() == {"error": "notes.xyz: no installed modality reads this kind of file"}


@pytest.mark.parametrize("query, expected", [
    ('{"parts": 5}', "malformed query JSON: 'parts' must be a list of objects"),
    ("[1, 2, 3]", "malformed query JSON: 'parts' must be a list of objects"),
    ('{"parts": [{"kind": "text", "value": "cat", "weight": 1}], "filters": 3}', "malformed query JSON: 'filters' must be an object"),
    ('{"parts": [{"kind": "text", "value": "cat"}]}', "malformed query JSON: a part lacks 'weight'"),
])
def test_a_malformed_query_field_is_named_in_the_clients_terms(api: TestClient, query: str, expected: str) -> None:
    """Before: "'int' object is not iterable", "list indices must be integers or slices, not str"."""
    response = api.post("/api/search", data={"query": query})
    assert response.status_code == 400 and response.json()["error"].startswith(expected), response.text


@pytest.mark.parametrize("url", ["/files/1/", "/thumbs/1/"])
def test_a_media_url_without_a_file_name_says_the_name_is_missing(api: TestClient, url: str) -> None:
    response = api.get(url)
    assert response.status_code == 400 and response.json()["error"].startswith("no file named: give its path relative"), response.text


def test_leg_names_show_the_uploads_own_name(api: TestClient, library: Path) -> None:
    """The copy is saved as upload-0.png; the answer (and the CLI's output through a server) names mine.png."""
    data = (library / "photos" / "rocket.png").read_bytes()
    hit = api.post("/api/search", files=[("files", ("mine.png", data, "image/png"))], data={"explain": "true"}).json()["hits"][0]
    assert any(leg.startswith("mine.png@") for leg in hit["legs"]) and all("upload-" not in leg for leg in hit["legs"])
    assert all(e["leg"].startswith("mine.png@") for e in hit["evidence"]) and "upload-" not in hit["explain"]
