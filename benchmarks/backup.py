"""Backup of a large feedback database: ``sora-backup create`` against the seed's pipeline.

The seed's script runs ``sqlite3 .backup``, ``gzip``, then one ``aws s3 cp``
(here: boto3's ``upload_file`` with the AWS CLI's default transfer settings).
``sora-backup create`` does the same work plus an integrity check before
upload and a full read-back verification after it. Both run in the same
session against the same S3-API server (moto) on loopback.

    BENCH_BACKUP_MB=1024 python -m benchmarks backup
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3

from tests.support.processes import free_port, program, running

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
        ]
    )
