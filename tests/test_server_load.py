"""Searches served while an indexing job writes: no errors, results grow as batches commit, and
nothing is corrupted. A bounded load test on 127.0.0.1 (8 clients, at most 8 s) that reports
p50/p99; run with ``-s`` to see the figures."""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed: pip install -e '.[server]'")

from conftest import tagged_png  # noqa: E402
from server_live import live_server  # noqa: E402

CLIENTS = 8
MAX_SECONDS = 8.0
NEW_FILES = 200


def test_searches_during_an_indexing_job(open_engine, library: Path, db_url: str | None) -> None:  # type: ignore[no-untyped-def]
    settings = {"batch_size": 4, "workers": 1}  # many small commits: searches see the library grow

    def job_engine():  # type: ignore[no-untyped-def]
        return open_engine(db=db_url, settings=settings)

    engine = job_engine()
    engine.index([library])
    new = library / "new"
    new.mkdir()
    for i in range(NEW_FILES):
        tagged_png(new / f"zebra-{i:03d}.png", f"zebra stripes savanna {i}", (i, 100, 200 - i))
    with live_server(engine, job_engine) as url:
        target = urlparse(url)
        start = _post(target, "/api/jobs", {"path": str(new)})
        assert start["state"] == "running"
        job_id = start["id"]
        latencies: list[float] = []
        errors: list[str] = []
        seen: list[list[int]] = [[] for _ in range(CLIENTS)]
        stop = threading.Event()

        def client(n: int) -> None:
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            query = "/api/search?" + urlencode({"q": "zebra stripes savanna", "k": 400, "path": "zebra-*"})
            while not stop.is_set():
                began = time.perf_counter()
                try:
                    conn.request("GET", query)
                    response = conn.getresponse()
                    body = response.read()
                    if response.status != 200:
                        errors.append(f"{response.status} {body[:200]!r}")
                        continue
                    seen[n].append(len(json.loads(body)["hits"]))
                except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                    errors.append(repr(exc))
                    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                    continue
                latencies.append(time.perf_counter() - began)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        job = _get(target, f"/api/jobs/{job_id}")
        while job["state"] == "running" and time.monotonic() - began < MAX_SECONDS:
            time.sleep(0.2)
            job = _get(target, f"/api/jobs/{job_id}")
        time.sleep(0.5)  # a few searches after the last commit
        stop.set()
        for thread in threads:
            thread.join(30)
        elapsed = time.monotonic() - began
        if job["state"] == "running":  # the machine is too slow to finish in the window: stop it cleanly
            _delete(target, f"/api/jobs/{job_id}")
        final = _get(target, "/api/search?" + urlencode({"q": "zebra stripes savanna", "k": 400, "path": "zebra-*"}))
        status = _get(target, "/api/status")

    ms = np.asarray(latencies) * 1000
    print(f"\n[{'postgres' if db_url else 'sqlite'}] {len(latencies)} searches by {CLIENTS} clients in {elapsed:.1f} s during "
          f"indexing ({job['done']}/{job['total']} files): p50 {np.percentile(ms, 50):.0f} ms, p99 {np.percentile(ms, 99):.0f} ms, "
          f"{len(errors)} errors")
    assert errors == []
    assert len(latencies) >= CLIENTS
    for counts in seen:  # each client saw the library only grow, batch by batch
        assert counts == sorted(counts)
    grew = sorted({c for counts in seen for c in counts})
    assert len(grew) >= 2, f"no search saw a partly indexed library: {grew}"
    committed = len(final["hits"])
    if job["state"] == "done":
        assert committed == NEW_FILES
    assert status["segments"] == 5 + committed and status["media"]["image"] == 3 + committed  # nothing lost or doubled


def _request(target, method: str, path: str, body: dict | None = None) -> dict:  # type: ignore[no-untyped-def]
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
    conn.request(method, path, json.dumps(body) if body is not None else None, {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = json.loads(response.read())
    assert response.status < 300, data
    return data


def _get(target, path: str) -> dict:  # type: ignore[no-untyped-def]
    return _request(target, "GET", path)


def _post(target, path: str, body: dict) -> dict:  # type: ignore[no-untyped-def]
    return _request(target, "POST", path, body)


def _delete(target, path: str) -> dict:  # type: ignore[no-untyped-def]
    return _request(target, "DELETE", path)


def test_search_sees_work_committed_by_another_process(open_engine, library: Path, db_url: str | None,  # type: ignore[no-untyped-def]
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    def same_as_cli():  # type: ignore[no-untyped-def]
        return open_engine(db=db_url, plugins=[])  # the HashEmbedder from MMSEARCH_PLUGINS, as in the subprocess

    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")
    engine = same_as_cli()
    engine.index([library])
    new = library / "new"
    new.mkdir()
    for i in range(5):
        tagged_png(new / f"zebra-{i}.png", f"zebra stripes {i}")
    with live_server(engine, same_as_cli) as url:
        target = urlparse(url)
        query = "/api/search?" + urlencode({"q": "zebra stripes", "path": "zebra-*"})
        assert _get(target, query)["hits"] == []
        args = ["--index", str(engine.index_dir), "--embedder", "hash", *(["--db", db_url] if db_url else []), "index", str(new)]
        subprocess.run([sys.executable, "-c", "import sys; from mmsearch.cli import main; sys.exit(main())", *args],
                       check=True, capture_output=True)
        assert len(_get(target, query)["hits"]) == 5  # the server's open Engine sees the other process's commit
