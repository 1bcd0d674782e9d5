"""Feedback API: durable writes against bare Falcon, reads over a million rows.

In one run, on this machine, over loopback, with wrk as the load generator:

* ``POST /api/feedback`` from ``sora-feedback-api`` (``SQLITE_SYNCHRONOUS=full``,
  the default, and ``normal``) against a bare Falcon endpoint that parses the
  same JSON and answers 201, under the same gunicorn settings, and against the
  Bun peer (``bun_peer.js``: access log line, salted client hash, validation,
  AES-GCM of the comment, one synchronous=FULL transaction keeping the
  target's aggregate; goal: ratio >= 0.7 with durable commits): requests per
  second and p99 latency, measured in alternating rounds after a warm-up
  (medians), so that load from other processes falls on all sides alike.
  Every request comes from another client address (``X-Forwarded-For`` through
  the trusted proxy) for one of 2,000 targets; 30 % carry a comment.
  Goal: ratio >= 0.5 with durable commits.
* p50/p99 of ``GET /api/stats``, ``GET /api/recommendations`` (both orders) and
  ``GET /api/stats/{type}/{id}`` with 1,000,000 feedback rows, bulk-loaded
  through the store in one transaction. Goal: p50 < 5 ms.

    python -m benchmarks feedback       # BENCH_ROUNDS=3 BENCH_SECONDS=8 by default
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import falcon

from benchmarks import bun
from tests.support.catalog import add_catalog_entry, catalog_server
from tests.support.processes import REPO_ROOT, Service, free_port, program, start_process

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
WARMUP_SECONDS = 2
WRK_THREADS = 2
POST_CONNECTIONS = 16
READ_CONNECTIONS = 4
ROWS = int(os.environ.get("BENCH_FEEDBACK_ROWS", "1000000"))
EXTENSIONS, LAYOUTS = 4000, 1000
WRITE_GOAL = 0.5
BUN_WRITE_GOAL = 0.7
READ_GOAL_MS = 5.0

POST_SCRIPT = """\
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(id * 7919 + os.time())
end
local sent = 0
function request()
  sent = sent + 1
  local address = string.format("10.%d.%d.%d",
    math.random(0, 255), math.random(0, 255), math.random(1, 254))
  local target = math.random(1, 2000)
  local body
  if math.random() < 0.3 then
    body = string.format(
      '{"target_type":"extension","target_id":"ext-%d","rating":%d,' ..
      '"comment":"benchmark comment %d from thread %d","locale":"ja-JP"}',
      target, math.random(1, 5), sent, id)
  else
    body = string.format('{"target_type":"extension","target_id":"ext-%d","rating":%d}',
      target, math.random(1, 5))
  end
  return wrk.format("POST", "/api/feedback",
    {["Content-Type"] = "application/json", ["X-Forwarded-For"] = address}, body)
end
"""


# -- the bare baseline --------------------------------------------------------


class _BareSubmit:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.get_media()
        resp.status = falcon.HTTP_201
        resp.media = {"id": 1, "replaced": False}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}


def serve_bare() -> None:
    """``python -m benchmarks.feedback bare``: PORT and WEB_* from the environment."""
    from sora.common.serve import ServerSettings, run_gunicorn
    from sora_contract.settings import Env

    def create() -> falcon.App[falcon.Request, falcon.Response]:
        app = falcon.App()
        app.add_route("/api/feedback", _BareSubmit())
        app.add_route("/health", _BareSubmit())
        return app

    run_gunicorn(create, ServerSettings.from_env(Env(), 3001).gunicorn_options())


# -- load generation ----------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0
    cpu_seconds: float = 0.0  # used by the server's processes (workers, writer) meanwhile

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_seconds / self.requests * 1e6 if self.requests else 0.0


def _process_tree_cpu(root: int) -> float:
    """User + system CPU seconds of ``root`` and its descendants (from /proc), including
    descendants that exited and were reaped meanwhile (recycled gunicorn workers)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(value) for value in fields[11:15]) / tick
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier += children
    return sum(times.get(pid, 0.0) for pid in tree)


def wrk(
    url: str, connections: int, seconds: int, script: Path | None = None, server: int = 0
) -> Load:
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(script), url] if script else [url]
    cpu_before = _process_tree_cpu(server) if server else 0.0
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu = _process_tree_cpu(server) - cpu_before if server else 0.0
    total = re.search(r"(\d+) requests in", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if rps is None or p50 is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    errors = sum(
        int(n)
        for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output)
        + re.findall(r"Socket errors: .*?timeout (\d+)", output)
    )
    return Load(
        float(rps.group(1)),
        float(p50.group(1)) * _UNITS[p50.group(2)],
        float(p99.group(1)) * _UNITS[p99.group(2)],
        errors,
        int(total.group(1)) if total else 0,
        cpu,
    )


def median(loads: list[Load], field: str) -> float:
    return float(statistics.median(getattr(load, field) for load in loads))


def alternate(servers: dict[str, Service], path: str, script: Path) -> dict[str, list[Load]]:
    """Rounds of A, B, C, ... after a warm-up of each; returns every round's figures."""
    for service in servers.values():
        wrk(service.url + path, POST_CONNECTIONS, WARMUP_SECONDS, script)
    results: dict[str, list[Load]] = {name: [] for name in servers}
    for _ in range(ROUNDS):
        for name, service in servers.items():
            load = wrk(service.url + path, POST_CONNECTIONS, SECONDS, script, service.process.pid)
            results[name].append(load)
    return results


# -- servers --------------------------------------------------------------------


def feedback_env(work: Path, name: str, **extra: str) -> dict[str, str]:
    return {
        "SORA_ENV": "production",
        "IP_SALT": secrets.token_hex(16),
        "ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "ADMIN_TOKEN": secrets.token_urlsafe(32),
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "DATABASE_PATH": str(work / f"{name}.db"),
        "PROMETHEUS_MULTIPROC_DIR": str(work / f"metrics-{name}"),
        "RATE_LIMIT_SUBMIT_PER_MINUTE": "1000000000",
        "RATE_LIMIT_SUBMIT_BURST": "1000000000",
        "RATE_LIMIT_READ_PER_MINUTE": "1000000000",
        "RATE_LIMIT_READ_BURST": "1000000000",
        **extra,
    }


def feedback_api(work: Path, name: str, env: dict[str, str]) -> Service:
    port = free_port()
    command = [program("sora-feedback-api")]
    return start_process(command, {**env, "PORT": str(port)}, work / f"{name}.log", port)


def bare_falcon(work: Path) -> Service:
    port = free_port()
    env = {"PORT": str(port), "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics-bare")}
    command = [sys.executable, "-m", "benchmarks.feedback", "bare"]
    return start_process(command, env, work / "bare.log", port, cwd=REPO_ROOT)


@contextlib.contextmanager
def stopping(service: Service) -> Iterator[Service]:
    try:
        yield service
    finally:
        service.stop()


# -- a million rows ---------------------------------------------------------------


def bulk_load(database: Path, encryption_key: str, rows: int) -> float:
    """``rows`` feedback entries over 5,000 targets and a year, 20 % with a comment."""
    from sora.feedback.crypto import Keyring, comment_context
    from sora.feedback.model import NewFeedback, Target
    from sora.feedback.sqlite import SQLiteStore, prepare_database

    rng = random.Random(2026)
    keyring = Keyring(encryption_key)
    targets = [Target("extension", f"ext-{n}") for n in range(1, EXTENSIONS + 1)]
    targets += [Target("layout", f"layout-{n}") for n in range(1, LAYOUTS + 1)]
    weights = [1 / (rank**0.8) for rank in range(1, len(targets) + 1)]  # a few popular ones
    now_ms = int(time.time() * 1000)
    year_ms = 365 * 86_400_000

    def entries() -> Iterator[NewFeedback]:
        for target in rng.choices(targets, weights=weights, k=rows):
            client = rng.randbytes(32)
            comment = None
            if rng.random() < 0.2:
                comment = keyring.seal(f"comment {rng.random()}", comment_context(target, client))
            yield NewFeedback(
                target=target,
                client_hash=client,
                rating=rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 2, 4, 5))[0],
                comment=comment,
                client_version="2.4.1",
                locale="ja-JP",
                submitted_at=now_ms - int(rng.random() ** 2 * year_ms),  # more recent than old
            )

    prepare_database(database)
    store = SQLiteStore(database)
    started = time.monotonic()
    try:
        loaded = store.import_feedback(entries())
    finally:
        store.close()
    assert loaded == rows, loaded
    return time.monotonic() - started


# -- the report -------------------------------------------------------------------


def _verdict(ok: bool, goal: str) -> str:
    return f"met ({goal})" if ok else f"**missed** (goal {goal})"


def _environment() -> str:
    wrk_version = subprocess.run(
        ["wrk", "--version"], capture_output=True, text=True, check=False
    ).stdout.split(" Copyright")[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({platform.machine()}), load average at start {load}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"gunicorn {version('gunicorn')}, falcon {version('falcon')}, {wrk_version}; "
        "gunicorn settings: each side's defaults (the feedback API: 1 worker x 8 threads;"
        " bare Falcon: ServerSettings' from the CPUs); "
        f"Bun {bun.version(bun.install())} ({bun.WORKERS} processes, reusePort, bun:sqlite "
        "with synchronous=FULL)"
    )


def _cpu(loads: list[Load]) -> str:
    return f"{median(loads, 'cpu_us_per_request'):,.0f} µs"


def _write_rows(writes: dict[str, list[Load]]) -> list[str]:
    bare_rps, bare_p99 = (
        median(writes["bare"], "requests_per_second"),
        median(writes["bare"], "p99_ms"),
    )
    bun_rps, bun_p99 = median(writes["bun"], "requests_per_second"), median(writes["bun"], "p99_ms")
    lines = []
    for name, label in (("full", "synchronous=FULL (default)"), ("normal", "synchronous=NORMAL")):
        rps, p99 = median(writes[name], "requests_per_second"), median(writes[name], "p99_ms")
        ratio = rps / bare_rps
        goal = _verdict(ratio >= WRITE_GOAL, f"≥ {WRITE_GOAL}") if name == "full" else "—"
        lines.append(
            f"| `POST /api/feedback`, {label} | {rps:,.0f} req/s, p99 {p99:.1f} ms, "
            f"CPU {_cpu(writes[name])}/request | bare Falcon {bare_rps:,.0f} req/s, "
            f"p99 {bare_p99:.1f} ms, CPU {_cpu(writes['bare'])}/request | {ratio:.2f} | {goal} |"
        )
    for name, label in (("full", "synchronous=FULL (default)"), ("normal", "synchronous=NORMAL")):
        rps = median(writes[name], "requests_per_second")
        ratio = rps / bun_rps
        goal = _verdict(ratio >= BUN_WRITE_GOAL, f"≥ {BUN_WRITE_GOAL}") if name == "full" else "—"
        lines.append(
            f"| `POST /api/feedback`, {label} | {rps:,.0f} req/s | Bun peer {bun_rps:,.0f} req/s, "
            f"p99 {bun_p99:.1f} ms, CPU {_cpu(writes['bun'])}/request | {ratio:.2f} | {goal} |"
        )
    return lines


def report(
    writes: dict[str, list[Load]],
    reads: dict[str, Load],
    load_seconds: float,
    database_bytes: int,
    environment: str,
) -> str:
    lines = [
        "## Feedback API",
        "",
        "Command: `make bench BENCH_ARGS=feedback` (`python -m benchmarks feedback`; "
        f"writes: {ROUNDS} alternating rounds of {SECONDS} s per side after a "
        f"{WARMUP_SECONDS} s warm-up, medians, wrk -t{WRK_THREADS} -c{POST_CONNECTIONS}; "
        f"reads: one {SECONDS} s run each, wrk -t{WRK_THREADS} -c{READ_CONNECTIONS}).",
        "",
        f"Machine: {environment}.",
        "",
        "| measurement | sora-feedback-api | baseline | ratio | goal |",
        "| --- | --- | --- | --- | --- |",
        *_write_rows(writes),
        "",
        f"Reads with {ROWS:,} feedback rows ({EXTENSIONS + LAYOUTS:,} targets, a year of days), "
        f"bulk-loaded through the store in one transaction in {load_seconds:.0f} s "
        f"(database {database_bytes / 2**20:,.0f} MiB):",
        "",
        "| request | p50 | p99 | req/s | goal p50 < 5 ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for path, load in reads.items():
        lines.append(
            f"| `GET {path}` | {load.p50_ms:.2f} ms | {load.p99_ms:.2f} ms "
            f"| {load.requests_per_second:,.0f} "
            f"| {_verdict(load.p50_ms < READ_GOAL_MS, '< 5 ms')} |"
        )
    errors = sum(load.errors for loads in writes.values() for load in loads)
    errors += sum(load.errors for load in reads.values())
    lines += [
        "",
        f"Non-2xx responses and socket timeouts during the runs: {errors}.",
        "",
        "Requests/s in each write round: "
        + "; ".join(
            f"{name} " + ", ".join(f"{load.requests_per_second:,.0f}" for load in loads)
            for name, loads in writes.items()
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def catalog(work: Path) -> contextlib.AbstractContextManager[Service]:
    """A file server listing every target the benchmark rates (feedback is checked)."""
    for kind, prefix, count in (("extensions", "ext", EXTENSIONS), ("layouts", "layout", LAYOUTS)):
        for number in range(1, count + 1):
            add_catalog_entry(work / "catalog", kind, f"{prefix}-{number}")
    return catalog_server(work, work / "catalog")


def measure_writes(work: Path, catalog_url: str) -> dict[str, list[Load]]:
    script = work / "post.lua"
    script.write_text(POST_SCRIPT)
    with contextlib.ExitStack() as stack:
        full_env = feedback_env(work, "full", FILE_SERVER_URL=catalog_url)
        full = stack.enter_context(stopping(feedback_api(work, "full", full_env)))
        normal_env = feedback_env(
            work, "normal", SQLITE_SYNCHRONOUS="normal", FILE_SERVER_URL=catalog_url
        )
        normal = stack.enter_context(stopping(feedback_api(work, "normal", normal_env)))
        bare = stack.enter_context(stopping(bare_falcon(work)))
        peer = stack.enter_context(stopping(bun.peer(work, b"{}")))
        servers = {"full": full, "normal": normal, "bare": bare, "bun": peer}
        return alternate(servers, "/api/feedback", script)


def measure_reads(work: Path, catalog_url: str) -> tuple[dict[str, Load], float, int]:
    env = feedback_env(work, "million", FILE_SERVER_URL=catalog_url)
    load_seconds = bulk_load(work / "million.db", env["ENCRYPTION_KEY"], ROWS)
    size = sum(path.stat().st_size for path in work.glob("million.db*"))
    paths = [
        "/api/stats",
        "/api/recommendations",
        "/api/recommendations?order=trending&kind=layout",
        "/api/stats/extension/ext-1",
    ]
    with stopping(feedback_api(work, "million", env)) as server:
        for path in paths:
            wrk(server.url + path, READ_CONNECTIONS, WARMUP_SECONDS)
        reads = {path: wrk(server.url + path, READ_CONNECTIONS, SECONDS) for path in paths}
    return reads, load_seconds, size


def run() -> str:
    if shutil.which("wrk") is None:
        subprocess.run([str(REPO_ROOT / "hack" / "bench-tools.sh")], check=True)
    work = Path(tempfile.mkdtemp(prefix="sora-bench-feedback-"))
    try:
        environment = _environment()
        with catalog(work) as files:
            writes = measure_writes(work, files.url)
            reads, load_seconds, size = measure_reads(work, files.url)
        return report(writes, reads, load_seconds, size, environment)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str]) -> Any:
    if argv[1:] == ["bare"]:
        return serve_bare()
    print(run())
    return None


if __name__ == "__main__":
    main(sys.argv)
