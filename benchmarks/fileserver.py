"""File server: catalog requests against bare Falcon and Bun, downloads against nginx.

In one run, on this machine, over loopback, with wrk as the load generator:

* ``GET /api/extensions`` from ``sora-file-server`` against a bare Falcon
  endpoint returning the same bytes under the same gunicorn settings
  (requests per second and p99 latency; goal: ratio >= 0.9), and against the
  Bun peer (``bun_peer.js``, the original design's runtime) serving the same
  bytes; the same listing answered 304 to ``If-None-Match`` (goal: at least
  bare Falcon's 200); and a second file server with every read logged
  (``ACCESS_LOG_READ_SAMPLING=1``), the before of the access log sampling.
  Every catalog side runs as one process (``ONE_PROCESS``), in two more rounds
  than the downloads;
* package downloads of 100 KiB and 10 MiB from ``sora-file-server`` (local
  backend) against Debian's nginx serving the very same files with
  ``sendfile on`` and as many worker processes as gunicorn has workers
  (throughput; goal for 10 MiB: ratio >= 0.7).

Each set is measured in alternating rounds (A, B, C, A, B, C, ...) after a warm-up,
and the medians are compared, so that load from other processes on the
machine falls on both sides alike.

    python -m benchmarks fileserver      # BENCH_ROUNDS=3 BENCH_SECONDS=8 by default
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import requests

from benchmarks import bun
from sora.common.serve import ServerSettings
from sora.fileserver.sample import create_sample_catalog
from sora_contract.settings import Env
from tests.support.processes import REPO_ROOT, Service, free_port, program, start_process

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
WARMUP_SECONDS = 2
WRK_THREADS = 2
CATALOG_CONNECTIONS = 16
SIZES = {"100 KiB": (100 * 1024, 16), "10 MiB": (10 * 1024 * 1024, 4)}  # bytes, connections
CATALOG_GOAL = 0.9
#: The catalog sides run one process each, so that a ratio compares the work per request.
#: With two gthread workers a round's figure is decided by how wrk's connections land on
#: them: measured 16/0 → 2,600 req/s and 8/8 → 5,000 from the same server, so the ratio of
#: two servers swung between 0.8 and 1.3 from round to round. The pod suite measures shapes.
CATALOG_PROCESSES = 1
ONE_PROCESS = {"WEB_CONCURRENCY": str(CATALOG_PROCESSES)}
CATALOG_ROUNDS = ROUNDS + 2  # the tightest goal (0.9) gets the steadier median
DOWNLOAD_GOAL = 0.7  # for 10 MiB


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p99_ms: float
    errors: int


@dataclass(frozen=True)
class Pair:
    """Medians of alternating rounds against the subject and its baseline."""

    subject: list[Load]
    baseline: list[Load]

    @staticmethod
    def _median(loads: list[Load], field: Callable[[Load], float]) -> float:
        return statistics.median(field(load) for load in loads)

    def rps(self) -> tuple[float, float]:
        def value(load: Load) -> float:
            return load.requests_per_second

        return self._median(self.subject, value), self._median(self.baseline, value)

    def p99(self) -> tuple[float, float]:
        def value(load: Load) -> float:
            return load.p99_ms

        return self._median(self.subject, value), self._median(self.baseline, value)

    def errors(self) -> int:
        return sum(load.errors for load in self.subject + self.baseline)


# -- load generation --------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, connections: int, seconds: int, headers: tuple[str, ...] = ()) -> Load:
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += [argument for header in headers for argument in ("-H", header)] + [url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if rps is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    errors = sum(
        int(n)
        for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output)
        + re.findall(r"Socket errors: .*?timeout (\d+)", output)
    )
    return Load(float(rps.group(1)), float(p99.group(1)) * _UNITS[p99.group(2)], errors)


@dataclass(frozen=True)
class Side:
    """One server (or one way of asking it) in a set of alternating rounds."""

    url: str
    headers: tuple[str, ...] = ()


def alternate(
    sides: dict[str, Side], connections: int, rounds: int = ROUNDS
) -> dict[str, list[Load]]:
    """Rounds of A, B, C, ... after a warm-up of each; every round's figures by side."""
    for side in sides.values():
        wrk(side.url, connections, WARMUP_SECONDS, side.headers)
    results: dict[str, list[Load]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, side in sides.items():
            results[name].append(wrk(side.url, connections, SECONDS, side.headers))
    return results


def compare(subject: str, baseline: str, connections: int) -> Pair:
    results = alternate({"subject": Side(subject), "baseline": Side(baseline)}, connections)
    return Pair(results["subject"], results["baseline"])


# -- what is measured -------------------------------------------------------


def install_tools() -> None:
    subprocess.run([str(REPO_ROOT / "hack" / "bench-tools.sh")], check=True)


def add_package(catalog: Path, entry_id: str, size: int) -> str:
    """A package of ``size`` random bytes; returns its path relative to the catalog."""
    data = os.urandom(size)
    directory = catalog / "extensions" / entry_id / "1.0.0"
    directory.mkdir(parents=True)
    (directory / "package.bin").write_bytes(data)
    manifest = {
        "id": entry_id,
        "version": "1.0.0",
        "name": f"Benchmark {entry_id}",
        "file": "package.bin",
        "size": size,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return f"extensions/{entry_id}/1.0.0/package.bin"


def readable_by_all(root: Path) -> None:
    """nginx workers drop root privileges; let them read the catalog."""
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


# As many nginx worker processes as gunicorn workers: on a loaded machine the
# scheduler shares CPU per process, and the baseline must not be starved by it.
NGINX_CONF = """\
worker_processes {workers};
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    access_log {work}/nginx-access.log;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ etag on; }}
    }}
}}
"""


def nginx(work: Path, root: Path, probe: str) -> Service:
    port = free_port()
    config = work / "nginx.conf"
    workers = ServerSettings.from_env(Env(), 3000).workers
    config.write_text(NGINX_CONF.format(work=work, port=port, root=root, workers=workers))
    command = [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(config), "-p", str(work)]
    return start_process([*command, "-g", "daemon off;"], {}, work / "nginx.log", port, probe)


def file_server(work: Path, catalog: Path, name: str = "sora", **extra: str) -> Service:
    port = free_port()
    env = {
        **extra,
        "PORT": str(port),
        "SORA_ENV": "production",
        "IP_SALT": secrets.token_hex(16),
        "STORAGE_DIR": str(catalog),
        "PROMETHEUS_MULTIPROC_DIR": str(work / f"metrics-{name}"),
    }
    return start_process([program("sora-file-server")], env, work / f"{name}.log", port)


def bare_falcon(work: Path, body: bytes, **extra: str) -> Service:
    port = free_port()
    (work / "body.json").write_bytes(body)
    env = {**extra, "PORT": str(port), "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics-bare")}
    command = [sys.executable, "-m", "benchmarks._bare_falcon", str(work / "body.json")]
    return start_process(command, env, work / "bare.log", port, cwd=REPO_ROOT)


@contextlib.contextmanager
def stopping(service: Service) -> Iterator[Service]:
    try:
        yield service
    finally:
        service.stop()


# -- the report -------------------------------------------------------------


def _verdict(ratio: float, goal: float) -> str:
    return f"met (≥ {goal})" if ratio >= goal else f"**missed** (goal ≥ {goal})"


def _environment() -> str:
    nginx_version = subprocess.run(
        ["nginx", "-v"], capture_output=True, text=True, check=False
    ).stderr.strip()
    wrk_version = subprocess.run(
        ["wrk", "--version"], capture_output=True, text=True, check=False
    ).stdout.split(" Copyright")[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    server = ServerSettings.from_env(Env(), 3000)
    return (
        f"{os.cpu_count()} CPUs ({platform.machine()}), load average at start {load}; "
        f"catalog: {CATALOG_PROCESSES} process per server (gunicorn {CATALOG_PROCESSES} worker x "
        f"{server.threads} threads, Bun {CATALOG_PROCESSES} process); downloads: gunicorn "
        f"{server.workers} workers x {server.threads} threads against nginx {server.workers} "
        "worker processes; "
        f"Python {platform.python_version()}, gunicorn {version('gunicorn')}, "
        f"falcon {version('falcon')}, {nginx_version}, {wrk_version}; "
        f"Bun {bun.version(bun.install())}"
    )


#: The catalog sides, in the order of the alternating rounds, and what each is.
CATALOG_SIDES = {
    "sora": "sora-file-server, 200",
    "sora-every-line": "sora-file-server, 200, every read logged (`ACCESS_LOG_READ_SAMPLING=1`)",
    "sora-304": "sora-file-server, `If-None-Match` → 304",
    "bare": "bare Falcon, 200",
    "bun": "Bun peer, 200",
}


def _median(loads: list[Load], field: str) -> float:
    return float(statistics.median(getattr(load, field) for load in loads))


def _catalog_rows(catalog: dict[str, list[Load]]) -> list[str]:
    """Every catalog side against bare Falcon's 200 and against the Bun peer."""
    bare = _median(catalog["bare"], "requests_per_second")
    bun = _median(catalog["bun"], "requests_per_second")
    goals = {"sora": (CATALOG_GOAL, bare), "sora-304": (1.0, bare)}
    rows = []
    for name, label in CATALOG_SIDES.items():
        rps = _median(catalog[name], "requests_per_second")
        p99 = _median(catalog[name], "p99_ms")
        goal, against = goals.get(name, (0.0, bare))
        verdict = _verdict(rps / against, goal) if goal else "—"
        rows.append(
            f"| `GET /api/extensions`, {label} | {rps:,.0f} | {p99:.1f} ms "
            f"| {rps / bare:.2f} | {rps / bun:.2f} | {verdict} |"
        )
    return rows


def report(
    catalog: dict[str, list[Load]], downloads: dict[str, tuple[int, Pair]], environment: str
) -> str:
    lines = [
        "## File server",
        "",
        "Command: `make bench BENCH_ARGS=fileserver` "
        f"(`python -m benchmarks fileserver`, {CATALOG_ROUNDS} alternating rounds for the catalog "
        f"and {ROUNDS} for downloads, of {SECONDS} s per side after a {WARMUP_SECONDS} s "
        f"warm-up, medians; wrk -t{WRK_THREADS}).",
        "",
        f"Machine: {environment}.",
        "",
        f"Catalog listing, {CATALOG_CONNECTIONS} connections, every side in the same rounds "
        "(goals: the 200 at ≥ 0.9 of bare Falcon, the 304 at ≥ 1.0 of bare Falcon's 200):",
        "",
        "| side | requests/s | p99 | ratio to bare Falcon | ratio to Bun peer | goal |",
        "| --- | --- | --- | --- | --- | --- |",
        *_catalog_rows(catalog),
        "",
        "Downloads against nginx serving the same files:",
        "",
        "| measurement | sora-file-server | nginx | ratio | goal |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, (size, pair) in downloads.items():
        sora, base = pair.rps()
        ratio = sora / base
        goal = _verdict(ratio, DOWNLOAD_GOAL) if label == "10 MiB" else "—"
        connections = SIZES[label][1]
        lines.append(
            f"| download {label}, {connections} connections: MiB/s "
            f"| {sora * size / 2**20:,.0f} | {base * size / 2**20:,.0f} "
            f"| {ratio:.2f} | {goal} |"
        )
    errors = sum(load.errors for loads in catalog.values() for load in loads)
    errors += sum(pair.errors() for _, pair in downloads.values())
    lines += ["", f"Non-2xx responses and socket timeouts during the runs: {errors}.", ""]
    lines += _rounds(catalog, downloads)
    return "\n".join(lines) + "\n"


def _per_round(loads: list[Load]) -> str:
    return ", ".join(f"{load.requests_per_second:,.0f}" for load in loads)


def _rounds(catalog: dict[str, list[Load]], downloads: dict[str, tuple[int, Pair]]) -> list[str]:
    return [
        "Requests/s in each round:",
        "",
        "- catalog: " + "; ".join(f"{name} {_per_round(loads)}" for name, loads in catalog.items()),
        *(
            f"- download {label}: sora {_per_round(pair.subject)}; "
            f"nginx {_per_round(pair.baseline)}"
            for label, (_, pair) in downloads.items()
        ),
    ]


def catalog_sides(
    sora: Service, every_line: Service, bare: Service, bun_peer: Service
) -> dict[str, Side]:
    path = "/api/extensions"
    etag = requests.get(sora.url + path, timeout=10).headers["ETag"]
    return {
        "sora": Side(sora.url + path),
        "sora-every-line": Side(every_line.url + path),
        "sora-304": Side(sora.url + path, (f"If-None-Match: {etag}",)),
        "bare": Side(bare.url + path),
        "bun": Side(bun_peer.url + path),
    }


def run() -> str:
    install_tools()
    work = Path(tempfile.mkdtemp(prefix="sora-bench-fileserver-"))
    try:
        catalog_dir = work / "catalog"
        create_sample_catalog(catalog_dir)
        files = {
            label: add_package(catalog_dir, f"bench-{n}", size)
            for n, (label, (size, _)) in enumerate(SIZES.items())
        }
        readable_by_all(work)
        environment = _environment()
        catalog = catalog_rounds(work, catalog_dir)
        with contextlib.ExitStack() as stack:
            sora = stack.enter_context(stopping(file_server(work, catalog_dir, "downloads")))
            static = stack.enter_context(stopping(nginx(work, catalog_dir, "/" + files["100 KiB"])))
            downloads = {}
            for label, (size, connections) in SIZES.items():
                entry_id = files[label].split("/")[1]
                subject = f"{sora.url}/api/extensions/{entry_id}/download?version=1.0.0"
                downloads[label] = (
                    size,
                    compare(subject, f"{static.url}/{files[label]}", connections),
                )
                time.sleep(1)
        return report(catalog, downloads, environment)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def catalog_rounds(work: Path, catalog_dir: Path) -> dict[str, list[Load]]:
    """Every catalog side, one process each (see ``ONE_PROCESS``)."""
    with contextlib.ExitStack() as stack:
        sora = stack.enter_context(stopping(file_server(work, catalog_dir, **ONE_PROCESS)))
        body = requests.get(sora.url + "/api/extensions", timeout=10).content
        every_line = stack.enter_context(
            stopping(
                file_server(
                    work, catalog_dir, "every-line", ACCESS_LOG_READ_SAMPLING="1", **ONE_PROCESS
                )
            )
        )
        bare = stack.enter_context(stopping(bare_falcon(work, body, **ONE_PROCESS)))
        peer = stack.enter_context(stopping(bun.peer(work, body, workers=CATALOG_PROCESSES)))
        for service in (every_line, bare, peer):
            assert requests.get(service.url + "/api/extensions", timeout=10).content == body
        sides = catalog_sides(sora, every_line, bare, peer)
        return alternate(sides, CATALOG_CONNECTIONS, CATALOG_ROUNDS)
