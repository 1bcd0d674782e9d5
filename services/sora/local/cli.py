"""``sora up``: the whole platform on this machine, behind one gateway.

Starts each HTTP service under gunicorn on its default port and the gateway
on http://127.0.0.1:8080, on embedded defaults: local-directory storage with a
sample catalog and SQLite, all under ``./data``. Development secrets are
generated once, kept in ``./data/dev-secrets.json`` and printed when created.
Ctrl-C (or SIGTERM) stops everything; if one service dies, all are stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from sora.local.routes import ADMIN, FEEDBACK_API, FILE_SERVER, upstream_variable

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Component:
    name: str
    command: tuple[str, ...]
    port: int
    env: dict[str, str]


def development_secrets(data_dir: Path) -> tuple[dict[str, str], bool]:
    """Secrets for local runs, generated once and reused so data stays readable."""
    path = data_dir / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text()), False
    values = {
        "ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "IP_SALT": secrets.token_urlsafe(32),
        "ADMIN_TOKEN": secrets.token_urlsafe(24),
        "SESSION_SECRET": secrets.token_urlsafe(32),
    }
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values, True


def components(
    data_dir: Path, secret_values: dict[str, str], gateway_port: int, base_port: int
) -> list[Component]:
    shared = {
        "SORA_ENV": "development",
        "LOG_FORMAT": "text",
        "IP_SALT": secret_values["IP_SALT"],
        "TRUSTED_PROXIES": "127.0.0.1/32,::1/128",
        "ALLOWED_ORIGINS": f"http://127.0.0.1:{gateway_port},http://localhost:{gateway_port}",
        "WEB_CONCURRENCY": "2",
        "HOST": "127.0.0.1",
    }
    return [
        Component(
            FILE_SERVER,
            (str(BIN / "sora-file-server"),),
            base_port,
            {
                **shared,
                "STORAGE_BACKEND": "local",
                "STORAGE_DIR": str(data_dir / "catalog"),
                "CACHE_DIR": str(data_dir / "cache"),
            },
        ),
        Component(
            FEEDBACK_API,
            (str(BIN / "sora-feedback-api"),),
            base_port + 1,
            {
                **shared,
                "DATABASE_PATH": str(data_dir / "feedback.db"),
                "FILE_SERVER_URL": f"http://127.0.0.1:{base_port}",
                "ENCRYPTION_KEY": secret_values["ENCRYPTION_KEY"],
                "ADMIN_TOKEN": secret_values["ADMIN_TOKEN"],
            },
        ),
        Component(
            ADMIN,
            (str(BIN / "sora-admin"),),
            base_port + 2,
            {
                **shared,
                "FEEDBACK_API_URL": f"http://127.0.0.1:{base_port + 1}",
                "FILE_SERVER_URL": f"http://127.0.0.1:{base_port}",
                "ADMIN_TOKEN": secret_values["ADMIN_TOKEN"],
                "SESSION_SECRET": secret_values["SESSION_SECRET"],
            },
        ),
    ]


def gateway(components: list[Component], port: int, host: str) -> Component:
    upstreams = {upstream_variable(c.name): f"http://127.0.0.1:{c.port}" for c in components}
    return Component(
        "gateway",
        (sys.executable, "-m", "sora.local.gateway"),
        port,
        {
            **upstreams,
            "HOST": host,
            "LOG_FORMAT": "text",
        },
    )


def _wait_healthy(name: str, url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {process.returncode} while starting")
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
            urllib.request.urlopen(url, timeout=1),  # noqa: S310 - loopback only
        ):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{name} did not become healthy at {url} within {timeout:.0f}s")


def _launch(component: Component) -> subprocess.Popen[bytes]:
    env = {**os.environ, **component.env, "PORT": str(component.port)}
    return subprocess.Popen(component.command, env=env, start_new_session=True)


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def _platform(
    parts: list[Component], health: dict[str, str]
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for component in parts:
            processes[component.name] = _launch(component)
            _wait_healthy(component.name, health[component.name], processes[component.name], 60)
        yield processes
    finally:
        _stop(processes)


def up(args: argparse.Namespace) -> int:
    from sora.fileserver.sample import create_sample_catalog

    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    catalog = data_dir / "catalog"
    if not catalog.exists():
        create_sample_catalog(catalog)
        print(f"sora: created a sample catalog in {catalog}")
    secret_values, created = development_secrets(data_dir)
    if created:
        print(f"sora: generated development secrets in {data_dir / 'dev-secrets.json'}")
        print(f"sora:   admin token: {secret_values['ADMIN_TOKEN']}")
    services = components(data_dir, secret_values, args.port, args.base_port)
    parts = [*services, gateway(services, args.port, args.host)]
    health = {c.name: f"http://127.0.0.1:{c.port}/health" for c in services}
    health["gateway"] = f"http://127.0.0.1:{args.port}/health"

    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        with _platform(parts, health) as processes:
            base = f"http://{args.host}:{args.port}"
            print(f"sora: platform running on {base}  (Ctrl-C to stop)")
            print(f"sora:   catalog     {base}/api/extensions  {base}/api/layouts")
            print(f"sora:   feedback    {base}/api/recommendations  {base}/api/stats")
            print(f"sora:   health      {base}/health")
            print(f"sora:   admin panel {base}/admin  (token in {data_dir / 'dev-secrets.json'})")
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        print(
                            f"sora: {name} exited with status {process.returncode}; stopping",
                            file=sys.stderr,
                        )
                        return 1
                time.sleep(0.5)
    except RuntimeError as error:
        print(f"sora: {error}", file=sys.stderr)
        return 1
    print("sora: stopped")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sora", description="The Sora platform, locally.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("up", help="run every service behind a gateway on :8080")
    run.add_argument("--port", type=int, default=8080, help="gateway port (default 8080)")
    run.add_argument("--host", default="127.0.0.1", help="gateway address (default 127.0.0.1)")
    run.add_argument(
        "--base-port",
        type=int,
        default=3000,
        help="first service port: file server, then feedback API, admin (default 3000)",
    )
    run.add_argument("--data-dir", default="data", help="where data lives (default ./data)")
    args = parser.parse_args(argv)
    raise SystemExit(up(args))
