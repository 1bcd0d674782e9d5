"""Running a Falcon app under gunicorn, tuned for containers.

Workers follow the CPUs the container may use (cgroup quota first, two per
started CPU plus one: :func:`workers_for`), requests
are bounded in time, workers recycle after ``max_requests`` with jitter so
leaks cannot accumulate, and SIGTERM drains in-flight requests within
``graceful_timeout`` (kept below Kubernetes' 30-second grace period). The
errors gunicorn answers itself, before any application code runs (414 for a
request line over 4094 bytes, 431 for too many or too large headers, 400 for
a request it cannot parse), come in the contract's JSON error shape like every
other error, from :class:`JsonErrorWorker`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from gunicorn import util as _gunicorn_util
from gunicorn.glogging import Logger as _GunicornBaseLogger
from gunicorn.workers.gthread import ThreadWorker as _GunicornThreadWorker

from sora_contract.settings import ConfigError, Env


def available_cpus() -> float:
    """CPUs this process may use: the cgroup quota (v2, else v1) if set, else the affinity mask.

    Fractional: a pod limited to ``512m`` may use 0.512 of a CPU.
    """
    cpus = float(len(os.sched_getaffinity(0)))
    quota = _cgroup_quota()
    return min(cpus, quota) if quota else cpus


def _cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CFS quota in CPUs: ``cpu.max`` (v2) or ``cpu.cfs_quota_us`` (v1, EKS AL2 nodes)."""
    try:
        quota, period = (root / "cpu.max").read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    for directory in _v1_cpu_directories(root):
        try:
            quota_us = int((directory / "cpu.cfs_quota_us").read_text())
            period_us = int((directory / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return None if quota_us <= 0 else quota_us / period_us
    return None


def _v1_cpu_directories(root: Path) -> list[Path]:
    """This process's v1 cpu cgroup: its own path (a host), then the mount's root (a container)."""
    mount = root / "cpu"
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        lines = []
    own = [
        mount / path.lstrip("/")
        for _, controllers, path in (line.split(":", 2) for line in lines if line.count(":") >= 2)
        if "cpu" in controllers.split(",") and path != "/"
    ]
    return [*own, mount]


def workers_for(cpus: float) -> int:
    """gunicorn workers for ``cpus``: ``2 * ceil(cpus) + 1``, at most 9 (a 512m or 256m pod: 3).

    Chosen from the pod-shaped benchmark on a quiet machine (docs/benchmarks.md,
    "Pods"): in a 512m pod that reaches its quota, three workers of four threads
    served the catalog at 1.66 times one worker's requests with 60 % of its CPU per
    request (479 against 799 µs), and the admin panel's 256m pod likewise
    (1.58 times); two workers came close, one was last in every quiet run. A Python
    process runs one thread at a time; one process holding every connection spent
    two thirds more CPU on each request than three sharing them. Above one CPU
    this is gunicorn's own recommendation, not measured here (a 2-CPU machine
    cannot give a pod two CPUs and keep the load generator outside it).
    """
    return min(2 * math.ceil(cpus) + 1, 9)


@dataclass(frozen=True)
class ServerSettings:
    """gunicorn settings; each can be overridden from the environment."""

    host: str
    port: int
    workers: int
    threads: int
    timeout: int
    graceful_timeout: int
    max_requests: int
    max_requests_jitter: int
    keepalive: int

    @classmethod
    def from_env(
        cls,
        env: Env,
        default_port: int,
        *,
        default_workers: int | None = None,
        default_threads: int = 4,
        default_max_requests: int = 10000,
    ) -> ServerSettings:
        """``default_workers``: by default, from the CPUs (:func:`workers_for`).
        ``default_max_requests``: 0 never recycles workers."""
        workers = default_workers or workers_for(available_cpus())
        return cls(
            host=env.string("HOST", "0.0.0.0"),  # noqa: S104 - containers listen on all interfaces
            port=env.integer("PORT", default_port, minimum=1, maximum=65535),
            workers=env.integer("WEB_CONCURRENCY", workers, minimum=1),
            threads=env.integer("WEB_THREADS", default_threads, minimum=1, maximum=64),
            timeout=env.integer("WEB_TIMEOUT", 30, minimum=1),
            graceful_timeout=env.integer("WEB_GRACEFUL_TIMEOUT", 25, minimum=1),
            max_requests=env.integer("WEB_MAX_REQUESTS", default_max_requests, minimum=0),
            max_requests_jitter=env.integer("WEB_MAX_REQUESTS_JITTER", 1000, minimum=0),
            keepalive=env.integer("WEB_KEEPALIVE", 5, minimum=0),
        )

    def gunicorn_options(self) -> dict[str, Any]:
        from sora.common import metrics

        def child_exit(server: Any, worker: Any) -> None:
            metrics.worker_exited(worker.pid)

        return {
            "bind": f"{self.host}:{self.port}",
            "workers": self.workers,
            "worker_class": "sora.common.serve.JsonErrorWorker",
            "threads": self.threads,
            "timeout": self.timeout,
            "graceful_timeout": self.graceful_timeout,
            "max_requests": self.max_requests,
            "max_requests_jitter": self.max_requests_jitter,
            "keepalive": self.keepalive,
            # The heartbeat file must live on a writable tmpfs (the root FS is read-only).
            "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,  # noqa: S108
            "accesslog": None,
            "loglevel": "info",
            "logger_class": "sora.common.serve.GunicornLogger",
            "child_exit": child_exit,
            "proc_name": None,
            "forwarded_allow_ips": "",
            # One shared $HOME/.gunicorn/gunicorn.ctl would collide between servers and
            # cannot be written on a read-only root file system; nothing uses it.
            "control_socket_disable": True,
        }


class GunicornLogger(_GunicornBaseLogger):  # type: ignore[misc]
    """gunicorn's own messages go through our root handler (JSON), not its console one."""

    def setup(self, cfg: Any) -> None:
        self.error_log.propagate = True
        self.error_log.setLevel(cfg.loglevel.upper())
        self.access_log.disabled = True


def write_json_error(sock: Any, status: int, reason: str, message: str) -> None:
    """gunicorn's ``util.write_error`` in the contract's shape: ``{"error": reason, ...}``."""
    error: dict[str, str] = {"error": reason}
    if message:
        error["detail"] = message
    body = json.dumps(error).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    _gunicorn_util.write_nonblock(sock, head.encode("latin-1") + body)


class JsonErrorWorker(_GunicornThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker, with its own error answers in JSON and no client address.

    gunicorn builds those answers in ``Worker.handle_error`` through
    ``gunicorn.util.write_error`` (an HTML page); the worker process swaps in
    :func:`write_json_error` before it serves. The address gunicorn would log
    with an invalid request is left out: client addresses never reach the logs.
    """

    def init_process(self) -> None:
        _gunicorn_util.write_error = write_json_error
        super().init_process()

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        super().handle_error(req, client, ("", -1), exc)


def run_gunicorn(app_factory: Callable[[], Any], options: dict[str, Any]) -> None:
    """Serve ``app_factory()`` under gunicorn; the app is built once, before forking."""
    from gunicorn.app.base import BaseApplication

    class _Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    app = app_factory()
    _Application().run()


def cli(description: str, default_port: int) -> argparse.Namespace:
    """Common flags; each overrides the environment variable it names."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", help="listen address (HOST, default 0.0.0.0)")
    parser.add_argument("--port", type=int, help=f"listen port (PORT, default {default_port})")
    parser.add_argument("--workers", type=int, help="gunicorn workers (WEB_CONCURRENCY)")
    args = parser.parse_args()
    for flag, variable in (("host", "HOST"), ("port", "PORT"), ("workers", "WEB_CONCURRENCY")):
        value = getattr(args, flag)
        if value is not None:
            os.environ[variable] = str(value)
    return args


def exit_on_config_error(program: str, error: ConfigError) -> NoReturn:
    print(f"{program}: configuration error: {error}", file=sys.stderr)
    raise SystemExit(2)
