"""Feedback API writes under the production pod's CPU: the previous write path against this one.

The production pod gets 0.5 CPU (``512m``). Each server runs inside a cgroup v1
CPU quota of its own (``cpu.cfs_quota_us=50000`` per ``cpu.cfs_period_us=100000``,
so its master, workers and threads share half a CPU as in the pod); wrk, the load
generator, and the file server holding the catalog run outside the quotas.

* **baseline**: the write path as of ``BENCH_POD_BASELINE`` (default ``f4b3409``,
  a flock-elected worker starting a writer process, requests pickled over a Unix
  socket, the mmap rate-limit table), run from a ``git worktree`` of that commit
  (``BENCH_POD_BASELINE_TREE``, default ``/tmp/oldwrite``; made when missing) with
  what a 0.5-CPU pod gave it: 3 workers (2 x ceil(0.5) + 1) x 4 threads.
* **subject**: this tree's ``sora-feedback-api`` with its defaults (one worker,
  its threads, the in-process group-commit writer thread).

Both use the same virtual environment, ``SQLITE_SYNCHRONOUS=full`` and the
load of ``benchmarks.feedback`` (every request from another client address,
2,000 targets, 30 % with a comment). Rounds alternate baseline and subject
(``BENCH_POD_ROUNDS`` pairs of ``BENCH_SECONDS`` each after a warm-up), and each
pair gives a ratio subject/baseline for requests per second and for p99, so that
load from other processes falls on both alike; the report gives every pair's
ratios and their range.

Needs root and the cgroup v1 ``cpu`` controller at ``/sys/fs/cgroup/cpu``.

    python -m benchmarks feedback_pod       # BENCH_POD_ROUNDS=4 BENCH_SECONDS=8 by default
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.feedback import (
    POST_CONNECTIONS,
    POST_SCRIPT,
    SECONDS,
    WRK_THREADS,
    Load,
    catalog,
    feedback_env,
    stopping,
    wrk,
)
from tests.support.processes import REPO_ROOT, Service, free_port, start_process

ROUNDS = int(os.environ.get("BENCH_POD_ROUNDS", "4"))
WARMUP_SECONDS = 5  # at half a CPU, 2 s is a few hundred requests: caches still cold
BASELINE_COMMIT = os.environ.get("BENCH_POD_BASELINE", "f4b3409")
BASELINE_TREE = Path(os.environ.get("BENCH_POD_BASELINE_TREE", "/tmp/oldwrite"))
CGROUP_ROOT = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 100_000
QUOTA_US = 50_000  # the pod's 512m, rounded to half a CPU
BASELINE_SETTINGS = {"WEB_CONCURRENCY": "3", "WEB_THREADS": "4"}  # what 0.5 CPU gave it
# Join the cgroup before exec, so the server and every process it forks are inside it.
_IN_CGROUP = 'group=$1; shift; echo $$ > "$group/cgroup.procs" && exec "$@"'


@dataclass
class CpuQuota:
    """A cgroup v1 CPU quota; ``throttled()`` reads how often it held its processes back."""

    path: Path

    @classmethod
    def create(cls, name: str) -> CpuQuota:
        if not (CGROUP_ROOT / "cpu.cfs_quota_us").exists():
            raise RuntimeError(f"needs the cgroup v1 cpu controller at {CGROUP_ROOT}")
        path = CGROUP_ROOT / f"sora-bench-{name}-{os.getpid()}"
        path.mkdir(exist_ok=True)
        (path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (path / "cpu.cfs_quota_us").write_text(str(QUOTA_US))
        return cls(path)

    def stat(self) -> dict[str, int]:
        lines = (self.path / "cpu.stat").read_text().split("\n")
        return {key: int(value) for key, value in (line.split() for line in lines if line)}

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.rmdir()


def baseline_tree() -> Path:
    """A worktree of the baseline commit (the old code itself, never a copy of it)."""
    if not (BASELINE_TREE / "services" / "sora").is_dir():
        subprocess.run(
            ["git", "-C", str(REPO_ROOT), "worktree", "add", "--detach", str(BASELINE_TREE),
             BASELINE_COMMIT],
            check=True, capture_output=True,
        )  # fmt: skip
    return BASELINE_TREE


def server_in_quota(
    work: Path, name: str, quota: CpuQuota, env: dict[str, str], tree: Path
) -> Service:
    """``python -m sora.feedback`` from ``tree``'s sources, inside ``quota``."""
    port = free_port()
    command = ["sh", "-c", _IN_CGROUP, "sh", str(quota.path), sys.executable, "-m", "sora.feedback"]
    env = {**env, "PORT": str(port), "PYTHONPATH": str(tree / "services")}
    return start_process(command, env, work / f"{name}.log", port, timeout=60, cwd=tree)


@dataclass(frozen=True)
class Round:
    baseline: Load
    subject: Load

    @property
    def throughput(self) -> float:
        return self.subject.requests_per_second / self.baseline.requests_per_second

    @property
    def p99(self) -> float:
        return self.subject.p99_ms / self.baseline.p99_ms


def measure(work: Path, catalog_url: str) -> tuple[list[Round], dict[str, float], dict[str, int]]:
    script = work / "post.lua"
    script.write_text(POST_SCRIPT)
    url = "/api/feedback"
    with contextlib.ExitStack() as stack:
        quotas = {name: CpuQuota.create(name) for name in ("baseline", "subject")}
        for quota in quotas.values():
            stack.callback(quota.remove)
        servers = {
            "baseline": server_in_quota(
                work, "baseline", quotas["baseline"],
                feedback_env(work, "baseline", FILE_SERVER_URL=catalog_url, **BASELINE_SETTINGS),
                baseline_tree(),
            ),
            "subject": server_in_quota(
                work, "subject", quotas["subject"],
                feedback_env(work, "subject", FILE_SERVER_URL=catalog_url), REPO_ROOT,
            ),
        }  # fmt: skip
        for service in servers.values():
            stack.enter_context(stopping(service))
            wrk(service.url + url, POST_CONNECTIONS, WARMUP_SECONDS, script)
        if "now writes to SQLite for all workers" not in servers["baseline"].logs():
            raise RuntimeError("the baseline server does not run the old write path")
        before = {name: quota.stat() for name, quota in quotas.items()}
        rounds = []
        for _ in range(ROUNDS):
            loads = {
                name: wrk(service.url + url, POST_CONNECTIONS, SECONDS, script, service.process.pid)
                for name, service in servers.items()
            }
            rounds.append(Round(loads["baseline"], loads["subject"]))
        throttled = {}
        for name, quota in quotas.items():
            after = quota.stat()
            periods = after["nr_periods"] - before[name]["nr_periods"]
            throttled[name] = (after["nr_throttled"] - before[name]["nr_throttled"]) / max(
                1, periods
            )
        initial = {"baseline": int(BASELINE_SETTINGS["WEB_CONCURRENCY"]), "subject": 1}
        restarts = {
            name: service.logs().count("Booting worker with pid") - initial[name]
            for name, service in servers.items()
        }
    return rounds, throttled, restarts


def report(
    rounds: list[Round], throttled: dict[str, float], restarts: dict[str, int], load: str
) -> str:
    def spread(values: list[float]) -> str:
        return f"{min(values):.2f} to {max(values):.2f} (median {statistics.median(values):.2f})"

    errors = sum(r.baseline.errors + r.subject.errors for r in rounds)
    boots = ", ".join(f"{name} {count}" for name, count in restarts.items())
    lines = [
        "## Feedback API writes at the production pod's CPU",
        "",
        "Command: `python -m benchmarks feedback_pod` "
        f"({ROUNDS} alternating pairs of {SECONDS} s per side after a {WARMUP_SECONDS} s "
        f"warm-up; wrk -t{WRK_THREADS} -c{POST_CONNECTIONS} outside the quotas; each server in "
        f"its own cgroup v1 CPU quota of {QUOTA_US}/{PERIOD_US} µs).",
        "",
        f"Baseline: commit {BASELINE_COMMIT} from a worktree, WEB_CONCURRENCY=3, WEB_THREADS=4. "
        f"Subject: this tree, its defaults. Load average at start {load}.",
        "",
        "| pair | baseline req/s | subject req/s | ratio | baseline p99 | subject p99 | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for number, r in enumerate(rounds, 1):
        lines.append(
            f"| {number} | {r.baseline.requests_per_second:,.0f} "
            f"| {r.subject.requests_per_second:,.0f} | {r.throughput:.2f} "
            f"| {r.baseline.p99_ms:.1f} ms | {r.subject.p99_ms:.1f} ms | {r.p99:.2f} |"
        )
    lines += [
        "",
        f"Throughput subject/baseline: {spread([r.throughput for r in rounds])}; "
        f"p99 subject/baseline: {spread([r.p99 for r in rounds])}.",
        "CPU µs per request (all of the server's processes): baseline "
        f"{statistics.median(r.baseline.cpu_us_per_request for r in rounds):,.0f}, subject "
        f"{statistics.median(r.subject.cpu_us_per_request for r in rounds):,.0f}. "
        "Share of quota periods throttled: "
        + ", ".join(f"{name} {share:.0%}" for name, share in throttled.items())
        + f". gunicorn workers started after the first ones (recycling): {boots}."
        f" Non-2xx responses and socket timeouts: {errors}.",
    ]
    return "\n".join(lines) + "\n"


def run() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="sora-bench-pod-") as folder:
        work = Path(folder)
        with catalog(work) as file_server:
            rounds, throttled, restarts = measure(work, file_server.url)
    return report(rounds, throttled, restarts, load)
