"""``mmsearch search`` with a server up: same output, no engine opened; stale servers ignored."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed: pip install -e '.[server]'")

from click.testing import CliRunner, Result  # noqa: E402
from server_live import live_server  # noqa: E402

from mmsearch.cli import cli, search_cmd  # noqa: E402
from mmsearch.server import discovery  # noqa: E402


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")
    monkeypatch.delenv("MMSEARCH_INDEX", raising=False)
    monkeypatch.delenv("MMSEARCH_SERVER", raising=False)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), "--embedder", "hash", *args])

    return invoke


@pytest.fixture
def server(open_engine, library: Path, run):  # type: ignore[no-untyped-def]
    assert run("index", str(library)).exit_code == 0

    def same_as_cli():  # type: ignore[no-untyped-def]
        return open_engine(plugins=[])  # the HashEmbedder comes from MMSEARCH_PLUGINS, as for the CLI

    engine = same_as_cli()
    with live_server(engine, same_as_cli) as url:
        yield url, engine.index_dir


def _no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the CLI opened an engine although a server was up")

    monkeypatch.setattr(search_cmd, "open_engine", refuse)


def test_server_writes_and_removes_its_discovery_file(open_engine, library: Path) -> None:  # type: ignore[no-untyped-def]
    engine = open_engine()
    with live_server(engine, open_engine) as url:
        found = discovery.live(engine.index_dir)
        assert found is not None and found.url == url and found.pid == os.getpid()
        assert oct((engine.index_dir / discovery.FILE).stat().st_mode & 0o777) == "0o600"
    assert not (engine.index_dir / discovery.FILE).exists()


def test_a_server_stopped_by_sigterm_removes_its_discovery_file(library: Path, tmp_path: Path) -> None:
    """What a service manager (systemd, docker stop) sends: the file must go as on Ctrl-C."""
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    env = {**os.environ, "MMSEARCH_PLUGINS": "mmsearch.testing.plugin", "MMSEARCH_EMBEDDERS": "hash"}
    env.pop("MMSEARCH_INDEX", None)
    index = tmp_path / "index"
    base = [sys.executable, "-m", "mmsearch", "--index", str(index)]
    subprocess.run([*base, "index", str(library)], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([*base, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while (found := discovery.live(index)) is None or not _answers(found.url, urllib.request):
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err, err
    assert not (index / discovery.FILE).exists()


def _answers(url: str, request) -> bool:  # type: ignore[no-untyped-def]
    try:
        request.urlopen(url + "/api/health", timeout=2).close()
        return True
    except OSError:
        return False


def test_search_output_is_identical_through_the_server(server, run, library: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    queries = [
        ("kitten whiskers",),
        ("volcano lava", "-k", "2", "--offset", "1", "--explain"),
        ("sea", "--json", "--fuser", "rrf"),
        ("cat", "--type", "text", "--path", "docs/*"),
        ("--image", str(library / "photos" / "rocket.png"), "-k", "3"),
        (f'"rocket launch" + {library / "photos" / "rocket.png"} -sand', "--json"),
    ]
    local = [run("search", *q, "--no-server") for q in queries]
    _no_engine(monkeypatch)
    remote = [run("search", *q) for q in queries]
    for q, a, b in zip(queries, local, remote):
        assert a.exit_code == 0 and b.exit_code == 0, (q, a.output, b.output)
        assert a.stdout and b.stdout == a.stdout, q
    assert json.loads(remote[2].stdout)[0]["legs"]  # JSON with evidence, not a reduced form


@pytest.fixture
def odd_names(library: Path) -> Path:
    """Names the server must hand back exactly: not UTF-8, a backslash, a newline."""
    for name in (b"caf\xe9.txt", b"back\\slash.txt", b"new\nline.txt", b"caf\\xe9.txt"):
        with open(os.path.join(os.fsencode(library / "docs"), name), "wb") as f:
            f.write(b"a giraffe eats acacia leaves\n")
    return library


def test_odd_names_come_back_through_the_server_unchanged(odd_names, server, run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    queries = [("giraffe acacia",), ("giraffe acacia", "--json")]
    local = [run("search", *q, "--no-server") for q in queries]
    _no_engine(monkeypatch)
    remote = [run("search", *q) for q in queries]
    for a, b in zip(local, remote):
        assert a.exit_code == b.exit_code == 0 and b.stdout == a.stdout
    shown = remote[0].stdout
    # shown as `ls -b` shows them: a literal backslash doubled, a newline as \n
    assert f"{odd_names}/docs/back\\\\slash.txt" in shown and f"{odd_names}/docs/new\\nline.txt" in shown
    # JSON cannot carry a name that is not UTF-8 as it is: its exact bytes travel in abspath_bytes
    abspaths = {unquote_to_bytes(h["abspath_bytes"]) if "abspath_bytes" in h else os.fsencode(h["abspath"])
                for h in json.loads(remote[1].stdout)}
    assert os.path.join(os.fsencode(odd_names / "docs"), b"caf\xe9.txt") in abspaths


def test_errors_through_the_server_are_the_same_line(server, run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    local = run("search", "cat", "--type", "hologram", "--no-server")
    _no_engine(monkeypatch)
    remote = run("search", "cat", "--type", "hologram")
    assert remote.exit_code == local.exit_code == 1
    assert remote.stderr == local.stderr and local.stderr.startswith("Error: unknown --type hologram")
    fuser = run("search", "cat", "--fuser", "best")
    assert fuser.exit_code == 1 and fuser.stderr.startswith("Error: no fuser named 'best'")


def test_explicit_server_url(server, run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, index_dir = server
    (index_dir / discovery.FILE).unlink()  # only --server can find it now
    local = run("search", "kitten", "--no-server")
    _no_engine(monkeypatch)
    assert run("search", "kitten", "--server", url).stdout == local.stdout
    dead = run("search", "kitten", "--server", f"http://127.0.0.1:{_free_port()}")
    assert dead.exit_code == 1 and dead.stderr.startswith("Error: cannot reach the mmsearch server at http://127.0.0.1:")
    assert len(dead.stderr.splitlines()) == 1


def test_stale_discovery_files_are_ignored(run, library: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("index", str(library)).exit_code == 0
    expected = run("search", "kitten").stdout
    index_dir = (tmp_path / "index").resolve()
    dead_pid = _dead_pid()
    base = dict(host=socket.gethostname(), index_dir=str(index_dir), db="x", token_required=False)
    discovery.write(index_dir, discovery.Discovery(url="http://127.0.0.1:9", pid=dead_pid, **base))
    assert discovery.live(index_dir) is None
    assert run("search", "kitten").stdout == expected  # dead pid: not even contacted
    discovery.write(index_dir, discovery.Discovery(url=f"http://127.0.0.1:{_free_port()}", pid=os.getpid(), **base))
    assert run("search", "kitten").stdout == expected  # live pid, refused connection
    (index_dir / discovery.FILE).write_text("{half a file")
    assert run("search", "kitten").stdout == expected


def test_a_server_for_another_index_is_not_used(server, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    url, index_dir = server
    other = tmp_path / "other"
    other.mkdir()
    found = discovery.read(index_dir)
    assert found is not None
    discovery.write(other, found)  # a copied file pointing at a server that holds another index
    _no_engine(monkeypatch)
    result = CliRunner().invoke(cli, ["--index", str(other), "--embedder", "hash", "search", "kitten"])
    # It went on in-process (the other index's server would have answered with hits), where
    # there is no index to open.
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: there is no index at {other.resolve()} yet")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_cli_does_not_import_the_server_stack(tmp_path: Path) -> None:
    import subprocess
    import sys

    probe = ("import sys\nfrom mmsearch.cli import main\n"
             "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'httpx') if m in sys.modules))")
    for args in (["--help"], ["search", "--help"]):
        out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True,
                             env={**os.environ, "MMSEARCH_PLUGINS": "mmsearch.testing.plugin"}).stdout
        assert out.strip().splitlines()[-1] == "[]", (args, out)


def test_a_second_server_leaves_the_first_ones_record(open_engine, library: Path) -> None:  # type: ignore[no-untyped-def]
    """Two servers on one index: the second took the discovery record over and removed it when it
    stopped, so `mmsearch search` no longer found the first, still running (an outside probe)."""
    import socket
    import subprocess
    import sys

    engine = open_engine()
    first = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # stands for the first server's process
    try:
        record = discovery.Discovery("http://127.0.0.1:1", first.pid, socket.gethostname(), str(engine.index_dir), "sqlite://", False)
        discovery.write(engine.index_dir, record)
        with live_server(engine, open_engine) as url:
            assert url != record.url and discovery.live(engine.index_dir) == record
        assert discovery.live(engine.index_dir) == record
    finally:
        first.kill()
        first.wait()
