"""The discovery file: a running server writes ``server.json`` into its index directory and removes
it on exit, so ``mmsearch search`` on the same index can ask it instead of loading models.

Standard library only: the CLI reads this before deciding whether to import the engine at all.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

FILE = "server.json"


@dataclass(frozen=True)
class Discovery:
    url: str  # where a client on this host reaches the server (loopback when bound to all addresses)
    pid: int
    host: str  # hostname of the server's machine: the pid means something only there
    index_dir: str
    db: str  # the database URL with any password hidden, to tell two databases behind one index apart
    token_required: bool


def index_dir_for(index: str | None) -> Path:
    """The index directory ``Engine.open(index)`` would use, without importing the engine."""
    import platformdirs

    from ..settings import Settings

    chosen = index or Settings().get("index") or Path(platformdirs.user_data_dir("mmsearch")) / "index"
    return Path(chosen).expanduser().resolve()


def write(index_dir: Path, info: Discovery) -> Path:
    """Atomically (rename) and readable by the owner only: it says where an unauthenticated
    loopback server listens."""
    path = index_dir / FILE
    tmp = path.with_name(f".{FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(info), out, indent=2)
    os.replace(tmp, path)
    return path


def remove(index_dir: Path, pid: int) -> None:
    """Remove the file if it is still ours (a second server on the index may have replaced it)."""
    found = read(index_dir)
    if found is not None and found.pid == pid:
        (index_dir / FILE).unlink(missing_ok=True)


def read(index_dir: Path) -> Discovery | None:
    try:
        data = json.loads((index_dir / FILE).read_text())
        return Discovery(**{k: data[k] for k in Discovery.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or half-written: no server to use


def live(index_dir: Path) -> Discovery | None:
    """The discovery record if its process still exists (checked on the same host only); whether
    it answers is the client's next question."""
    found = read(index_dir)
    if found is None:
        return None
    if found.host == socket.gethostname() and not _pid_alive(found.pid):
        return None
    return found


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
