"""Backup of a large feedback database: ``sora-backup create`` against the seed's pipeline.

The seed's script runs ``sqlite3 .backup``, ``gzip``, then one ``aws s3 cp``
(here: boto3's ``upload_file`` with the AWS CLI's default transfer settings).
``sora-backup create`` does the same work plus an integrity check before
upload and a full read-back verification after it. Both run in the same
session against the same S3-API server (moto) on loopback.

    BENCH_BACKUP_MB=1024 python -m benchmarks backup

Then continuous replication (``sora-backup replicate``, Litestream): the same steady
single-row commits (synchronous=FULL, as the feedback API writes) for
``BENCH_REPLICATION_SECONDS`` with replication off, on with Litestream owning the WAL
checkpoints (``wal_autocheckpoint=0``, the platform's choice) and on with SQLite
checkpointing as well; each replicated run ends with SIGKILL of the replicator
mid-load, the database files deleted and a restore from the replica, which gives the
recovery point: how long before the kill the oldest lost commit was acknowledged.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import boto3

from tests.support.polling import wait_for
from tests.support.processes import free_port, program, running, start_process
from tests.support.replication import backup_cli, caught_up, replication_env

S3_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"}
ROW_BYTES = 260  # an encrypted comment (~200 B) plus the other columns


def build_database(path: Path, megabytes: int) -> int:
    rows = megabytes * 1024 * 1024 // ROW_BYTES
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE feedback (id INTEGER PRIMARY KEY, target TEXT, rating INTEGER,"
        " comment BLOB, created TEXT)"
    )
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        " INSERT INTO feedback SELECT i, 'extension/item-' || (i % 500), i % 5 + 1,"
        " randomblob(200), '2026-11-28T00:00:00Z' FROM n",
        (rows,),
    )
    db.commit()
    db.close()
    return rows


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_ENV["AWS_REGION"],
        aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
    )


def seed_pipeline(database: Path, work: Path, bucket: str, endpoint: str) -> float:
    started = time.perf_counter()
    copy = work / "seed-backup.db"
    subprocess.run(["sqlite3", str(database), f".backup {copy}"], check=True)
    subprocess.run(["gzip", str(copy)], check=True)
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    client.upload_file(
        str(copy) + ".gz",
        bucket,
        "database/seed/seed-backup.db.gz",
        ExtraArgs={"StorageClass": "STANDARD_IA"},
    )
    elapsed = time.perf_counter() - started
    os.unlink(str(copy) + ".gz")
    return elapsed


def sora_create(database: Path, bucket: str, endpoint: str) -> float:
    env = {
        **os.environ,
        **S3_ENV,
        "S3_ENDPOINT_URL": endpoint,
        "BACKUP_BUCKET": bucket,
        "DATABASE_PATH": str(database),
        "BACKUP_PREFIX": "database/bench/",
    }
    started = time.perf_counter()
    subprocess.run(
        [program("sora-backup"), "create"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


class SteadyWriter(threading.Thread):
    """Single-row commits as fast as SQLite takes them; each commit's time is kept."""

    def __init__(self, path: Path, autocheckpoint: int) -> None:
        super().__init__(daemon=True)
        self.path, self.autocheckpoint = path, autocheckpoint
        self.acknowledged: list[tuple[int, float]] = []
        self.largest_wal = 0
        self.stop = threading.Event()

    def run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA synchronous = FULL")
        db.execute(f"PRAGMA wal_autocheckpoint = {self.autocheckpoint}")
        wal = self.path.with_name(self.path.name + "-wal")
        while not self.stop.is_set():
            row = db.execute(
                "INSERT INTO feedback (target, rating, comment, created) VALUES"
                " ('extension/x', 4, randomblob(200), datetime('now')) RETURNING id"
            ).fetchone()
            self.acknowledged.append((int(row[0]), time.time()))
            if len(self.acknowledged) % 200 == 0 and wal.exists():
                self.largest_wal = max(self.largest_wal, wal.stat().st_size)
        db.close()


def replication_run(
    work: Path, endpoint: str, bucket: str, replicated: bool, autocheckpoint: int, seconds: float
) -> dict[str, float]:
    """One arrangement: commits per second, the largest WAL, and (replicated) the recovery point."""
    folder = work / f"{bucket}-{autocheckpoint}"
    folder.mkdir()
    database = folder / "feedback.db"
    build_database(database, 1)
    env = replication_env({**S3_ENV, "S3_ENDPOINT_URL": endpoint}, bucket, database)
    replicator = None
    if replicated:
        port = free_port()
        replicator = start_process(
            [program("sora-backup"), "replicate"],
            {**env, "REPLICATION_METRICS_PORT": str(port)},
            folder / "replicate.log",
            port,
            "/metrics",
            timeout=120,
        )
        # Measure from the first snapshot on: what comes before is Litestream starting.
        wait_for(lambda: caught_up(replicator), 120, "Litestream's first snapshot")
    writer = SteadyWriter(database, autocheckpoint)
    writer.start()
    time.sleep(seconds)  # a benchmark's measuring window, not a test's wait
    killed_at = time.time()
    if replicator is not None:
        os.killpg(replicator.process.pid, signal.SIGKILL)  # the volume is lost with its pod
        replicator.process.wait()
    writer.stop.set()
    writer.join()
    outcome = {
        "commits_per_second": len(writer.acknowledged) / seconds,
        "largest_wal_mib": writer.largest_wal / 1024**2,
    }
    if replicated:
        for leftover in folder.glob("*feedback.db*"):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        status, restored, _ = backup_cli(env, "restore", "--from", "replica")
        if status != 0:
            outcome["restore_failed"] = 1.0
            print(f"restore from the replica failed: {restored.get('error')}")
            return outcome
        db = sqlite3.connect(database)
        stored = {row[0] for row in db.execute("SELECT id FROM feedback")}
        db.close()
        lost = [
            at for number, at in writer.acknowledged if at <= killed_at and number not in stored
        ]
        outcome["recovery_point_seconds"] = killed_at - min(lost) if lost else 0.0
        outcome["lost_commits"] = float(len(lost))
    return outcome


def _cell(value: float | None, spec: str, result: dict[str, float]) -> str:
    if result.get("restore_failed"):
        return "restore failed"
    return "—" if value is None else format(value, spec)


def replication_table(endpoint: str, work: Path) -> list[str]:
    seconds = float(os.environ.get("BENCH_REPLICATION_SECONDS", "20"))
    client = s3_client(endpoint)
    arrangements = [
        ("replication off (SQLite checkpoints, every 1000 pages)", False, 1000),
        ("Litestream, which alone checkpoints (`wal_autocheckpoint=0`, the platform)", True, 0),
        ("Litestream, SQLite checkpointing as well (`wal_autocheckpoint=1000`)", True, 1000),
    ]
    results = []
    for number, (label, replicated, autocheckpoint) in enumerate(arrangements):
        bucket = f"bench-replica-{number}"
        client.create_bucket(Bucket=bucket)
        results.append(
            (label, replication_run(work, endpoint, bucket, replicated, autocheckpoint, seconds))
        )
    baseline = results[0][1]["commits_per_second"]
    lines = [
        "## Continuous replication",
        "",
        f"Single-row commits (synchronous=FULL) for {seconds:.0f} s per arrangement; replicated"
        " runs end with SIGKILL of the replicator under load, the database files deleted and"
        " `sora-backup restore --from replica`. S3-API server: moto on loopback.",
        "",
        "| arrangement | commits/s | ratio to off | largest WAL (MiB) | recovery point (s)"
        " | lost commits |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, result in results:
        rpo = result.get("recovery_point_seconds")
        lost = result.get("lost_commits")
        lines.append(
            f"| {label} | {result['commits_per_second']:.0f} |"
            f" {result['commits_per_second'] / baseline:.2f} | {result['largest_wal_mib']:.1f} |"
            f" {_cell(rpo, '.2f', result)} | {_cell(lost, '.0f', result)} |"
        )
    return [*lines, ""]


def run() -> str:
    megabytes = int(os.environ.get("BENCH_BACKUP_MB", "1024"))
    with tempfile.TemporaryDirectory(prefix="sora-bench-backup-") as tmp:
        work = Path(tmp)
        database = work / "feedback.db"
        rows = build_database(database, megabytes)
        size = database.stat().st_size
        port = free_port()
        with running(
            [program("moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            {},
            work / "moto.log",
            "/moto-api/",
            port,
        ) as s3:
            s3_client(s3.url).create_bucket(Bucket="bench")
            seed = seed_pipeline(database, work, "bench", s3.url)
            sora = sora_create(database, "bench", s3.url)
            replication = replication_table(s3.url, work)
    return "\n".join(
        [
            "## Backup",
            "",
            f"Database: {size / 1024**3:.2f} GiB, {rows:,} feedback rows;"
            " S3-API server: moto on loopback.",
            "",
            "| pipeline | seconds |",
            "| --- | ---: |",
            f"| seed: `sqlite3 .backup` + `gzip` + one upload | {seed:.1f} |",
            "| `sora-backup create` (snapshot, integrity_check, gzip, upload, read-back verify)"
            f" | {sora:.1f} |",
            f"| ratio sora / seed | {sora / seed:.2f} |",
            "",
            *replication,
        ]
    )
