"""SQLite against PostgreSQL under the feedback store, side by side in one run.

* Writes: ``submit`` with durable commits (SQLite ``synchronous=FULL``; PostgreSQL
  ``synchronous_commit=on``, ``fsync=on``) from 1 and from several processes, each with
  8 threads; SQLite's processes meet at its one write lock, PostgreSQL's write in parallel.
* PostgreSQL's own commit rate on the same server: ``pgbench`` with one single-row INSERT
  per transaction at the same client count (the ceiling for the store's writes).
* Reads: ``ranked_targets`` and ``target`` latency p50/p99 over a database of
  ``SORA_BENCH_FEEDBACK_ROWS`` rows (default 100,000; the issue asks for 1,000,000).

Store level (no HTTP, no gunicorn): what the engines cost, not the web stack's overhead,
which ``feedback`` measures. Run: ``make bench BENCH_ARGS=feedback_postgres``.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from sora.feedback import postgres as pg
from sora.feedback import sqlite
from sora.feedback.model import NewFeedback, Target
from sora.feedback.store import FeedbackStore
from tests.support.postgres import postgres_server

ROWS = int(os.environ.get("SORA_BENCH_FEEDBACK_ROWS", "100000"))
SECONDS = float(os.environ.get("SORA_BENCH_SECONDS", "5"))
THREADS = 8
PROCESSES = (1, 4)
TARGETS = 200
NOW_MS = 1_790_000_000_000


def _entry(number: int) -> NewFeedback:
    return NewFeedback(
        Target(("extension", "layout")[number % 2], f"t-{number % TARGETS:04d}"),
        number.to_bytes(32, "big"), 1 + number * 7 % 5, None, "1.0", "ja",
        NOW_MS + number % 100_000,
    )  # fmt: skip


def _open(engine: str, where: str) -> FeedbackStore:
    if engine == "sqlite":
        return sqlite.SQLiteStore(Path(where))
    return pg.PostgresStore(where, pool_size=THREADS)


def _writer(engine: str, where: str, first: int, seconds: float, counts: object) -> None:
    store = _open(engine, where)
    done = [0] * THREADS
    deadline = time.monotonic() + seconds

    def submit(thread: int) -> None:
        number = first + thread * 10_000_000
        while time.monotonic() < deadline:
            store.submit(_entry(number))
            number += 1
            done[thread] += 1

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    counts.put(sum(done))  # type: ignore[attr-defined]


def _writes_per_second(engine: str, where: str, processes: int, offset: int) -> float:
    context = multiprocessing.get_context("spawn")
    counts = context.Queue()
    workers = [
        context.Process(
            target=_writer,
            args=(engine, where, offset + n * 100_000_000, SECONDS, counts),
        )
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    total: int = sum(counts.get(timeout=SECONDS + 120) for _ in workers)
    for worker in workers:
        worker.join()
    return total / SECONDS


def _latencies(call: Callable[[int], object], count: int = 2000) -> tuple[float, float]:
    samples = []
    for number in range(count):
        started = time.perf_counter()
        call(number)
        samples.append((time.perf_counter() - started) * 1000)
    quantiles = statistics.quantiles(samples, n=100)
    return quantiles[49], quantiles[98]


def _reads(store: FeedbackStore) -> dict[str, tuple[float, float]]:
    return {
        "ranked": _latencies(lambda n: store.ranked_targets(None, "score", 20)),
        "target": _latencies(
            lambda n: store.target(Target(("extension", "layout")[n % 2], f"t-{n % TARGETS:04d}"))
        ),
    }


def _pgbench(server_bin: Path, url: str, clients: int) -> float:
    script = Path(tempfile.mkdtemp()) / "commit.sql"
    script.write_text("INSERT INTO bench_commits (at) VALUES (clock_timestamp());\n")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commits (id bigserial, at timestamptz)")
    result = subprocess.run(
        [str(server_bin / "pgbench"), "-n", "-f", str(script), "-c", str(clients),
         "-j", str(min(clients, 4)), "-T", str(int(SECONDS)), url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    for line in result.stdout.splitlines():
        if line.startswith("tps ="):
            return float(line.split()[2])
    raise RuntimeError(f"no tps in pgbench output: {result.stdout}")


def run() -> str:
    rows: list[str] = []
    reads: dict[str, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as folder, postgres_server() as server:
        lite = Path(folder) / "feedback.db"
        sqlite.prepare_database(lite)
        url = server.create_database("bench")
        pg.prepare_database(url)
        for engine, where in (("sqlite", str(lite)), ("postgresql", url)):
            store = _open(engine, where)
            store.import_feedback(_entry(n) for n in range(ROWS))
            reads[engine] = _reads(store)
            store.close()
        writes = {
            (engine, processes): _writes_per_second(engine, where, processes, ROWS + i * 10**9)
            for i, (engine, where, processes) in enumerate(
                (e, w, p)
                for e, w in (("sqlite", str(lite)), ("postgresql", url))
                for p in PROCESSES
            )
        }
        commit_rates = {p: _pgbench(server.bin, url, p * THREADS) for p in PROCESSES}
    rows.append("| engine | processes x threads | durable submits/s | vs SQLite, 1 process |")
    rows.append("| --- | --- | --- | --- |")
    base = writes[("sqlite", 1)]
    for (engine, processes), rate in writes.items():
        rows.append(f"| {engine} | {processes} x {THREADS} | {rate:,.0f} | {rate / base:.2f} |")
    for processes, tps in commit_rates.items():
        rows.append(
            f"| pgbench, 1 INSERT per commit | {processes * THREADS} clients | {tps:,.0f} | "
            f"{tps / base:.2f} |"
        )
    rows.append("")
    rows.append(f"Reads over {ROWS:,} rows ({TARGETS} targets), milliseconds:")
    rows.append("")
    rows.append("| engine | ranked p50 | ranked p99 | one target p50 | one target p99 |")
    rows.append("| --- | --- | --- | --- | --- |")
    for engine, figures in reads.items():
        (r50, r99), (t50, t99) = figures["ranked"], figures["target"]
        rows.append(f"| {engine} | {r50:.3f} | {r99:.3f} | {t50:.3f} | {t99:.3f} |")
    return "## feedback_postgres\n\n" + "\n".join(rows) + "\n"
