"""Each service in its prod pod's shape: the CPU and memory the CRD gives it.

A prod SoraDeployment gives the file server and the feedback API 512m CPU and
1Gi each, the admin panel 256m and 512Mi (``operator/sora_operator/spec.py``,
``ENVIRONMENT_DEFAULTS``). Each server runs here in cgroups with exactly those
limits (:mod:`benchmarks.cgroup`); wrk stays outside. For the file server and
the admin panel several gunicorn shapes (workers x threads) are measured in
alternating rounds, so the defaults of ``ServerSettings`` can be chosen from
the figures; the feedback API runs as configured (its process model belongs to
its write path) beside the Bun peer in the same 512m. Reported: requests per
second, requests per second per CPU of the limit, p99, the CPU the cgroup used
per request, the share of 100 ms periods in which the quota stopped it, and
peak memory.

    python -m benchmarks pod      # BENCH_ROUNDS=3 BENCH_SECONDS=8 by default
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from benchmarks import bun, feedback
from benchmarks.cgroup import Cgroup, available
from benchmarks.feedback import POST_SCRIPT, catalog, feedback_env
from benchmarks.fileserver import Load, install_tools, stopping, wrk
from sora.fileserver.sample import create_sample_catalog
from sora_operator.spec import ENVIRONMENT_DEFAULTS
from tests.support.processes import Service, free_port, program, start_process

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
WARMUP_SECONDS = 2
CONNECTIONS = 16
PROD = ENVIRONMENT_DEFAULTS["prod"]
ADMIN = ENVIRONMENT_DEFAULTS["dev"]  # spec.Admin's resources: the dev defaults in every env

#: gunicorn shapes measured for the file server and the admin panel: (workers, threads).
#: (3, 4) is what ServerSettings chose for a 512m pod before these figures.
SHAPES = ((1, 4), (1, 8), (2, 2), (2, 4), (3, 4))


@dataclass(frozen=True)
class Round:
    load: Load
    cpu_seconds: float
    periods: int
    throttled_periods: int


@dataclass
class Side:
    """One server in its own cgroup, and the request wrk sends it."""

    label: str
    pod: Cgroup
    url: str
    script: Path | None = None
    rounds: list[Round] | None = None

    def measure(self, seconds: int) -> Round:
        cpu, (periods, throttled) = self.pod.cpu_seconds(), self.pod.periods()
        load = _wrk(self.url, seconds, self.script)
        periods_after, throttled_after = self.pod.periods()
        return Round(
            load,
            self.pod.cpu_seconds() - cpu,
            periods_after - periods,
            throttled_after - throttled,
        )


def _wrk(url: str, seconds: int, script: Path | None) -> Load:
    if script is None:
        return wrk(url, CONNECTIONS, seconds)
    measured = feedback.wrk(url, CONNECTIONS, seconds, script)
    return Load(measured.requests_per_second, measured.p99_ms, measured.errors)


def alternate(sides: list[Side]) -> None:
    for side in sides:
        side.measure(WARMUP_SECONDS)
        side.rounds = []
    for _ in range(ROUNDS):
        for side in sides:
            assert side.rounds is not None
            side.rounds.append(side.measure(SECONDS))


@contextlib.contextmanager
def pod(name: str, cpu: str, memory: str) -> Iterator[Cgroup]:
    with Cgroup(f"sora-bench-pod-{name}", cpu=cpu, memory=memory) as group:
        yield group


def _gunicorn(
    work: Path, name: str, group: Cgroup, command: str, env: dict[str, str], shape: tuple[int, int]
) -> Service:
    port = free_port()
    workers, threads = shape
    env = {
        **env,
        "PORT": str(port),
        "SORA_ENV": "production",
        "WEB_CONCURRENCY": str(workers),
        "WEB_THREADS": str(threads),
        "PROMETHEUS_MULTIPROC_DIR": str(work / f"metrics-{name}"),
    }
    return start_process(group.wrap([program(command)]), env, work / f"{name}.log", port)


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _rows(sides: list[Side]) -> list[str]:
    rows = []
    for side in sides:
        rounds = side.rounds or []
        rps = _median([r.load.requests_per_second for r in rounds])
        p99 = _median([r.load.p99_ms for r in rounds])
        requests_made = sum(r.load.requests_per_second * SECONDS for r in rounds)
        cpu_us = sum(r.cpu_seconds for r in rounds) / requests_made * 1e6 if requests_made else 0
        periods = sum(r.periods for r in rounds)
        throttled = sum(r.throttled_periods for r in rounds) / periods if periods else 0.0
        peak = side.pod.memory_peak_bytes() / 2**20
        rows.append(
            f"| {side.label} | {side.pod.cpu} / {side.pod.memory} | {rps:,.0f} "
            f"| {rps / side.pod.cpus:,.0f} | {p99:.1f} ms | {cpu_us:,.0f} µs "
            f"| {throttled:.0%} | {peak:,.0f} MiB |"
        )
    return rows


def _table(title: str, sides: list[Side]) -> list[str]:
    return [
        f"**{title}**",
        "",
        "| server | CPU / memory limit | req/s | req/s per CPU | p99 | CPU per request "
        "| periods throttled | peak memory |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *_rows(sides),
        "",
        "Requests/s in each round: "
        + "; ".join(
            f"{side.label} "
            + ", ".join(f"{r.load.requests_per_second:,.0f}" for r in side.rounds or [])
            for side in sides
        )
        + ".",
        "",
    ]


def file_servers(work: Path, stack: contextlib.ExitStack) -> list[Side]:
    catalog_dir = work / "catalog"
    create_sample_catalog(catalog_dir)
    env = {"IP_SALT": secrets.token_hex(16), "STORAGE_DIR": str(catalog_dir)}
    sides = []
    body = b""
    for workers, threads in SHAPES:
        name = f"fileserver-{workers}x{threads}"
        group = stack.enter_context(pod(name, PROD.cpu, PROD.memory))
        service = stack.enter_context(
            stopping(_gunicorn(work, name, group, "sora-file-server", env, (workers, threads)))
        )
        body = requests.get(service.url + "/api/extensions", timeout=10).content
        label = f"sora-file-server {workers} x {threads}"
        sides.append(Side(label, group, service.url + "/api/extensions"))
    group = stack.enter_context(pod("fileserver-bun", PROD.cpu, PROD.memory))
    peer = stack.enter_context(
        stopping(bun.peer(work, body, wrap=group.wrap([]), name="bun-catalog"))
    )
    sides.append(Side(f"Bun peer, {bun.WORKERS} processes", group, peer.url + "/api/extensions"))
    return sides


def admin_panels(work: Path, stack: contextlib.ExitStack) -> list[Side]:
    env = {
        "IP_SALT": secrets.token_hex(16),
        "ADMIN_TOKEN": secrets.token_urlsafe(32),
        "SESSION_SECRET": secrets.token_urlsafe(32),
    }
    sides = []
    for workers, threads in SHAPES:
        name = f"admin-{workers}x{threads}"
        group = stack.enter_context(pod(name, ADMIN.cpu, ADMIN.memory))
        service = stack.enter_context(
            stopping(_gunicorn(work, name, group, "sora-admin", env, (workers, threads)))
        )
        label = f"sora-admin {workers} x {threads}"
        sides.append(Side(label, group, service.url + "/admin/login"))
    return sides


def feedback_apis(work: Path, stack: contextlib.ExitStack, catalog_url: str) -> list[Side]:
    script = work / "post.lua"
    script.write_text(POST_SCRIPT)
    group = stack.enter_context(pod("feedback", PROD.cpu, PROD.memory))
    env = feedback_env(work, "feedback", FILE_SERVER_URL=catalog_url)
    port = free_port()
    service = stack.enter_context(
        stopping(
            start_process(
                group.wrap([program("sora-feedback-api")]),
                {**env, "PORT": str(port)},
                work / "feedback.log",
                port,
            )
        )
    )
    peer_group = stack.enter_context(pod("feedback-bun", PROD.cpu, PROD.memory))
    peer = stack.enter_context(
        stopping(bun.peer(work, b"{}", wrap=peer_group.wrap([]), name="bun-feedback"))
    )
    return [
        Side("sora-feedback-api (its own defaults)", group, service.url + "/api/feedback", script),
        Side(f"Bun peer, {bun.WORKERS} processes", peer_group, peer.url + "/api/feedback", script),
    ]


def run() -> str:
    reason = available()
    if reason:
        return f"## Pods\n\n(skipped: {reason})\n"
    install_tools()
    work = Path(tempfile.mkdtemp(prefix="sora-bench-pod-"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "## Pods",
        "",
        "Command: `make bench BENCH_ARGS=pod` (`python -m benchmarks pod`, "
        f"{ROUNDS} alternating rounds of {SECONDS} s per side after a {WARMUP_SECONDS} s "
        f"warm-up, medians; wrk -t2 -c{CONNECTIONS} outside the cgroups).",
        "",
        f"Machine: {os.cpu_count()} CPUs, load average at start {load}; each server in "
        "cgroup v1 `cpu`/`cpuacct`/`memory` groups with its prod pod's limits (CFS quota "
        "per 100 ms period, hard memory limit); Bun "
        f"{bun.version(bun.install())}.",
        "",
    ]
    try:
        with contextlib.ExitStack() as stack:
            sides = file_servers(work, stack)
            alternate(sides)
            lines += _table("File server, `GET /api/extensions` (prod: 512m, 1Gi)", sides)
        with contextlib.ExitStack() as stack:
            sides = admin_panels(work, stack)
            alternate(sides)
            lines += _table("Admin panel, `GET /admin/login` (256m, 512Mi)", sides)
        with contextlib.ExitStack() as stack:
            files = stack.enter_context(catalog(work))
            sides = feedback_apis(work, stack, files.url)
            alternate(sides)
            lines += _table("Feedback API, `POST /api/feedback` (prod: 512m, 1Gi)", sides)
        return "\n".join(lines)
    finally:
        shutil.rmtree(work, ignore_errors=True)
