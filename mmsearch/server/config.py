"""How a server is set up: who may call it and what it may touch."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ServerConfig:
    token: str | None = None  # required on every request when set
    roots: tuple[Path, ...] = ()  # where indexing jobs may run, besides the libraries already indexed
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    cors_origins: tuple[str, ...] = ()  # none: browsers refuse cross-origin reads (no CORS headers)
    allowed_hosts: tuple[str, ...] | None = None  # Host header check (DNS rebinding); None: any
    thumb_px: int = 320


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Any address other than loopback exposes the library to the network: only with a token."""
    if not is_loopback(host) and not token:
        raise ConfigError(f"serving on {host} exposes your library to the network; set a token with --token or "
                          "MMSEARCH_TOKEN (clients send it as 'Authorization: Bearer TOKEN'), or bind 127.0.0.1")
