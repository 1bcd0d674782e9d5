"""Test catalogs for the file server: entries written in its storage layout, and a
``sora-file-server`` serving them (what the feedback API checks targets against)."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from tests.support.processes import Service, free_port, program, running

CATALOG_KINDS: Final = ("extensions", "layouts")


def add_catalog_entry(root: Path, kind: str, entry_id: str) -> None:
    """One valid entry (version 1.0.0, a tiny package) in the file server's storage layout."""
    directory = root / kind / entry_id / "1.0.0"
    directory.mkdir(parents=True, exist_ok=True)
    package = f"{kind}/{entry_id}".encode()
    (directory / "package.zip").write_bytes(package)
    manifest = {
        "id": entry_id,
        "version": "1.0.0",
        "name": entry_id,
        "file": "package.zip",
        "size": len(package),
        "sha256": hashlib.sha256(package).hexdigest(),
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))


def write_catalog(root: Path, ids: Iterable[str]) -> None:
    """Every id both as an extension and as a layout."""
    for entry_id in ids:
        for kind in CATALOG_KINDS:
            add_catalog_entry(root, kind, entry_id)


def catalog_server(
    tmp: Path, root: Path, port: int | None = None, **extra: str
) -> contextlib.AbstractContextManager[Service]:
    """``sora-file-server`` (one worker) over ``root``; with ``CATALOG_TTL_SECONDS=0`` it
    rereads storage on every request (by default it keeps its catalog 30 s)."""
    port = port or free_port()
    env = {
        "SORA_ENV": "test",
        "IP_SALT": "test-catalog-salt-3e7a1f9c",
        "LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "1",
        "STORAGE_BACKEND": "local",
        "STORAGE_DIR": str(root),
        "CACHE_DIR": str(tmp / "file-server-cache"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "file-server-metrics"),
        "PORT": str(port),
        **extra,
    }
    return running([program("sora-file-server")], env, tmp / "file-server.log", "/health", port)
