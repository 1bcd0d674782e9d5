"""The Bun peer (``bun_peer.js``): Bun from npm, installed by the benchmark itself.

The original design runs these services on Bun with its built-in SQLite; the
peer is that design's runtime doing the same per-request work, so the
file server and feedback benchmarks can say how sora compares with what a
user would otherwise pick. Bun is a benchmark tool, never a test or runtime
dependency: :func:`install` fetches the pinned ``@oven/bun-linux-x64`` package
with npm into a cache directory once and reuses it.
"""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import subprocess
from pathlib import Path

from tests.support.processes import REPO_ROOT, Service, free_port, start_process

VERSION = "1.4.4"
PACKAGE = "@oven/bun-linux-x64"
#: Processes sharing the port with reusePort (the issue's measurement used two).
WORKERS = 2
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sora-bench"
SCRIPT = REPO_ROOT / "benchmarks" / "bun_peer.js"


def install() -> Path:
    """The Bun binary, installed from npm into the cache on first use."""
    prefix = CACHE / f"bun-{VERSION}"
    binary = prefix / "node_modules" / PACKAGE / "bin" / "bun"
    if binary.exists():
        return binary
    if platform.machine() != "x86_64":
        raise RuntimeError(f"the Bun peer uses {PACKAGE}, which needs x86_64")
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the Bun peer is installed with npm, which is not on PATH")
    prefix.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(prefix),
            "--no-save",
            "--no-audit",
            "--no-fund",
            f"{PACKAGE}@{VERSION}",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    binary.chmod(0o755)
    return binary


def version(binary: Path) -> str:
    return subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def peer(
    work: Path,
    catalog_body: bytes,
    wrap: list[str] | None = None,
    name: str = "bun",
    workers: int = WORKERS,
) -> Service:
    """The peer on a free loopback port; ``wrap`` prefixes the command (a cgroup, say)."""
    binary = install()
    port = free_port()
    body = work / f"{name}-catalog.json"
    body.write_bytes(catalog_body)
    env = {
        "PORT": str(port),
        "CATALOG_BODY": str(body),
        "DATABASE_PATH": str(work / f"{name}.db"),
        "IP_SALT": secrets.token_hex(16),
        "ENCRYPTION_KEY_HEX": secrets.token_hex(32),
        "TRUSTED_PROXY": "127.0.0.1",
        "WORKERS": str(workers),
    }
    command = [*(wrap or []), str(binary), str(SCRIPT)]
    return start_process(command, env, work / f"{name}.log", port)
