"""``sora up``: the whole platform on this machine, behind one gateway.

Starts each HTTP service under gunicorn on its default port and the gateway
on http://127.0.0.1:8080, on embedded defaults: local-directory storage with a
sample catalog and SQLite, all under ``./data``. Development secrets are
generated once, kept in ``./data/dev-secrets.json`` and printed when created.

A process that exits is started again after a back-off (1 s, doubling to 30 s,
back to 1 s once it has run for 30 s); the rest of the platform keeps
running. Ctrl-C (or SIGTERM) stops everything. Asked for, ``sora up`` also
serves the catalog from an S3-API server it starts (``--s3``), restarts the
services when the code changes (``--reload``), and runs a read-only browser
for the SQLite database (``--db-browser``). See docs/local.md.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Final

from sora.local.gateway import upstream_variable
from sora_contract import layout
from sora_contract.routes import ADMIN, FEEDBACK_API, FILE_SERVER

BIN = Path(sys.executable).parent
SOURCE_ROOT: Final = Path(__file__).resolve().parents[1]  # the ``sora`` package
SOURCE_SUFFIXES: Final = frozenset({".py", ".html", ".css", ".js", ".json", ".sql", ".svg"})
S3_BUCKET: Final = "sora-catalog"
S3_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "sora-local",
    "AWS_SECRET_ACCESS_KEY": "sora-local",
    "AWS_REGION": "us-east-1",
}
START_TIMEOUT: Final = 60.0


def say(message: str, error: bool = False) -> None:
    """One line of ``sora up``'s own output, flushed (it is often a pipe or a file)."""
    print(f"sora: {message}", file=sys.stderr if error else sys.stdout, flush=True)


@dataclass(frozen=True)
class Component:
    """One process of the platform and how to tell it is up."""

    name: str
    command: tuple[str, ...]
    port: int
    env: dict[str, str]
    health_path: str = "/health"
    #: Restarted by ``--reload`` (platform code); the S3 server and browser are not.
    reloads: bool = True
    #: Run once the process answers, after every start (fills the S3 server's bucket).
    prepare: Callable[[], None] | None = field(default=None, compare=False)

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.health_path}"


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait before a restart: ``first`` doubling up to ``limit``."""

    first: float = 1.0
    limit: float = 30.0
    #: A process that ran this long before it exited starts the count again.
    stable_after: float = 30.0

    def delay(self, failures: int) -> float:
        return float(min(self.limit, self.first * 2 ** max(0, failures - 1)))

    def failures_after_exit(self, failures: int, ran_for: float) -> int:
        return 1 if ran_for >= self.stable_after else failures + 1


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


def _file_server_storage(data_dir: Path, s3_endpoint: str | None) -> dict[str, str]:
    if s3_endpoint is None:
        return {"STORAGE_BACKEND": "local", "STORAGE_DIR": str(data_dir / "catalog")}
    return {
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": S3_BUCKET,
        "S3_ENDPOINT_URL": s3_endpoint,
        **S3_CREDENTIALS,
    }


def components(
    data_dir: Path,
    secret_values: dict[str, str],
    gateway_port: int,
    base_port: int,
    s3_endpoint: str | None = None,
) -> list[Component]:
    shared = {
        "SORA_ENV": "development",
        "LOG_FORMAT": "text",
        "IP_SALT": secret_values["IP_SALT"],
        "TRUSTED_PROXIES": "127.0.0.1/32,::1/128",
        "ALLOWED_ORIGINS": f"http://127.0.0.1:{gateway_port},http://localhost:{gateway_port}",
        "HOST": "127.0.0.1",
    }
    two_workers = {"WEB_CONCURRENCY": "2"}  # the feedback API always runs one (its writer)
    file_server_url = f"http://127.0.0.1:{base_port}"
    return [
        Component(
            FILE_SERVER,
            (str(BIN / "sora-file-server"),),
            base_port,
            {
                **shared,
                **two_workers,
                **_file_server_storage(data_dir, s3_endpoint),
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
                "ENCRYPTION_KEY": secret_values["ENCRYPTION_KEY"],
                "ADMIN_TOKEN": secret_values["ADMIN_TOKEN"],
                "FILE_SERVER_URL": file_server_url,
            },
        ),
        Component(
            ADMIN,
            (str(BIN / "sora-admin"),),
            base_port + 2,
            {
                **shared,
                **two_workers,
                "FEEDBACK_API_URL": f"http://127.0.0.1:{base_port + 1}",
                "FILE_SERVER_URL": file_server_url,
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
        {**upstreams, "HOST": host, "LOG_FORMAT": "text"},
    )


def s3_client(endpoint: str) -> Any:
    """A client for the local S3 server, with its throw-away credentials."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_CREDENTIALS["AWS_REGION"],
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def upload_catalog(catalog: Path, endpoint: str) -> None:
    """The catalog directory as objects of the S3 server's bucket, keys as relative paths."""
    s3 = s3_client(endpoint)
    s3.create_bucket(Bucket=S3_BUCKET)
    for path in sorted(catalog.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), S3_BUCKET, path.relative_to(catalog).as_posix())


def s3_server(catalog: Path, port: int) -> Component:
    """moto's S3 server, in memory: filled from the catalog directory whenever it starts."""
    endpoint = f"http://127.0.0.1:{port}"
    return Component(
        "s3",
        (str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)),
        port,
        {},
        health_path="/moto-api/",
        reloads=False,
        prepare=lambda: upload_catalog(catalog, endpoint),
    )


def database_browser(database: Path, port: int) -> Component:
    """Datasette on the SQLite file, read-only.

    Datasette opens a file it serves with ``mode=ro`` (SQLite refuses every
    write) and has no write endpoints without plugins; ``--immutable`` would be
    wrong here, as it tells SQLite the file never changes while the feedback
    API writes to it.
    """
    return Component(
        "db-browser",
        (
            str(BIN / "datasette"),
            "serve",
            str(database),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ),
        port,
        {},
        health_path="/-/versions.json",
        reloads=False,
    )


def _wait_healthy(component: Component, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{component.name} exited with status {process.returncode} while starting"
            )
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
            urllib.request.urlopen(component.health_url, timeout=1),  # noqa: S310 - loopback
        ):
            return
        time.sleep(0.2)
    raise RuntimeError(
        f"{component.name} did not answer at {component.health_url} within {START_TIMEOUT:.0f}s"
    )


def _launch(component: Component) -> subprocess.Popen[bytes]:
    env = {**os.environ, **component.env, "PORT": str(component.port)}
    return subprocess.Popen(component.command, env=env, start_new_session=True)


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to every process group, SIGKILL to those still there after 30 s."""
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
        _signal_group(process, signal.SIGKILL)  # workers a dead master left behind


@dataclass
class _Supervised:
    component: Component
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None


class Supervisor:
    """Starts the components in order and keeps them running, one restart at a time."""

    def __init__(self, parts: list[Component], backoff: Backoff) -> None:
        self._parts = [_Supervised(component) for component in parts]
        self._backoff = backoff

    def start_all(self) -> None:
        """Start every component and wait for each; any failure here is fatal."""
        for part in self._parts:
            self._start(part)

    def stop_all(self) -> None:
        _stop([part.process for part in reversed(self._parts) if part.process is not None])

    def check(self) -> None:
        """Notice exits, schedule their restarts, and carry out the restarts that are due."""
        now = time.monotonic()
        for part in self._parts:
            if part.restart_at is None and part.process is not None:
                status = part.process.poll()
                if status is not None:
                    _signal_group(part.process, signal.SIGKILL)
                    ran_for = now - part.started_at
                    part.failures = self._backoff.failures_after_exit(part.failures, ran_for)
                    self._schedule(part, f"exited with status {status}")
            if part.restart_at is not None and part.restart_at <= now:
                self._restart(part)

    def reload(self, changed: list[Path]) -> None:
        """Restart the platform's own processes for a code change, in start order."""
        say(f"{len(changed)} file(s) changed ({changed[0]}); restarting the services")
        parts = [part for part in self._parts if part.component.reloads]
        _stop([part.process for part in parts if part.process is not None])
        for part in parts:
            part.failures = 0
            self._restart(part)

    def _start(self, part: _Supervised) -> None:
        part.restart_at = None
        part.process = _launch(part.component)
        part.started_at = time.monotonic()
        _wait_healthy(part.component, part.process)
        if part.component.prepare is not None:
            part.component.prepare()
        say(f"{part.component.name} running on :{part.component.port} (pid {part.process.pid})")

    def _restart(self, part: _Supervised) -> None:
        try:
            self._start(part)
        except Exception as error:  # any failure to start (the S3 fill too) is retried later
            if part.process is not None:
                _stop([part.process])
            part.failures += 1
            self._schedule(part, f"did not start ({error})")

    def _schedule(self, part: _Supervised, why: str) -> None:
        delay = self._backoff.delay(part.failures)
        part.restart_at = time.monotonic() + delay
        say(f"{part.component.name} {why}; restarting in {delay:g}s", error=True)


class SourceWatcher:
    """The ``sora`` package's files by modification time and size; ``changed()`` since last."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._seen = self._snapshot()

    def _snapshot(self) -> dict[Path, tuple[int, int]]:
        times: dict[Path, tuple[int, int]] = {}
        for path in self._root.rglob("*"):
            if path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts:
                with contextlib.suppress(FileNotFoundError):  # an editor's file, just replaced
                    status = path.stat()
                    times[path] = (status.st_mtime_ns, status.st_size)
        return times

    def changed(self) -> list[Path]:
        now = self._snapshot()
        changed = sorted(
            path for path in now.keys() | self._seen.keys() if now.get(path) != self._seen.get(path)
        )
        self._seen = now
        return changed


def _prepare_data(data_dir: Path) -> dict[str, str]:
    from sora.fileserver.sample import create_sample_catalog

    data_dir.mkdir(parents=True, exist_ok=True)
    catalog = data_dir / "catalog"
    if not catalog.exists():
        create_sample_catalog(catalog)
        say(f"created a sample catalog in {catalog}")
    secret_values, created = development_secrets(data_dir)
    if created:
        say(f"generated development secrets in {data_dir / 'dev-secrets.json'}")
        say(f"  admin token: {secret_values['ADMIN_TOKEN']}")
    return secret_values


def platform_parts(args: argparse.Namespace, data_dir: Path) -> list[Component]:
    """Every process of this run, in start order."""
    secret_values = _prepare_data(data_dir)
    extras: list[Component] = []
    s3_endpoint = None
    if args.s3:
        s3_port = args.base_port + 3
        extras.append(s3_server(data_dir / "catalog", s3_port))
        s3_endpoint = f"http://127.0.0.1:{s3_port}"
    services = components(data_dir, secret_values, args.port, args.base_port, s3_endpoint)
    parts = [*extras, *services, gateway(services, args.port, args.host)]
    if args.db_browser:
        parts.append(database_browser(data_dir / "feedback.db", args.db_browser_port))
    return parts


def _print_banner(args: argparse.Namespace, data_dir: Path) -> None:
    base = f"http://{args.host}:{args.port}"
    say(f"platform running on {base}  (Ctrl-C to stop)")
    say(f"  catalog     {base}/api/extensions  {base}/api/layouts")
    say(f"  feedback    {base}/api/recommendations  {base}/api/stats")
    say(f"  health      {base}/health")
    say(f"  admin panel {base}/admin  (token in {data_dir / 'dev-secrets.json'})")
    if args.s3:
        say(f"  catalog on  S3 at http://127.0.0.1:{args.base_port + 3}, bucket {S3_BUCKET}")
    if args.db_browser:
        say(f"  database    http://127.0.0.1:{args.db_browser_port}  (read-only)")
    if args.reload:
        say(f"  reloading   on changes under {SOURCE_ROOT}")


def up(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    supervisor = Supervisor(platform_parts(args, data_dir), Backoff())
    watcher = SourceWatcher(SOURCE_ROOT) if args.reload else None
    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        supervisor.start_all()
        _print_banner(args, data_dir)
        while not stopping:
            supervisor.check()
            if watcher is not None and (changed := watcher.changed()):
                supervisor.reload(changed)
            time.sleep(0.5)
    except RuntimeError as error:
        say(str(error), error=True)
        return 1
    finally:
        supervisor.stop_all()
    say("stopped")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sora", description="The Sora platform, locally.")
    commands = parser.add_subparsers(dest="command", required=True)
    gateway_port = layout.GATEWAY_PORT
    run = commands.add_parser("up", help=f"run every service behind a gateway on :{gateway_port}")
    run.add_argument(
        "--port", type=int, default=gateway_port, help=f"gateway port (default {gateway_port})"
    )
    run.add_argument("--host", default="127.0.0.1", help="gateway address (default 127.0.0.1)")
    run.add_argument(
        "--base-port",
        type=int,
        default=layout.FILE_SERVER_PORT,
        help="first service port: file server, then feedback API, admin, S3 "
        f"(default {layout.FILE_SERVER_PORT})",
    )
    run.add_argument("--data-dir", default="data", help="where data lives (default ./data)")
    run.add_argument(
        "--s3",
        action="store_true",
        help="serve the catalog from an S3-API server (moto) started on base port + 3",
    )
    run.add_argument(
        "--reload", action="store_true", help="restart the services when their code changes"
    )
    run.add_argument(
        "--db-browser",
        action="store_true",
        help="a read-only browser (Datasette) for the SQLite database",
    )
    run.add_argument("--db-browser-port", type=int, default=8081, help="its port (default 8081)")
    args = parser.parse_args(argv)
    raise SystemExit(up(args))
