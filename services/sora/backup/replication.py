"""Continuous replication of the feedback database with Litestream, and restores from it.

What is decided here is pure (the Litestream configuration from the settings, the
replication lag from samples of two positions, the retained window from a listing);
running the pinned ``litestream`` binary and asking S3 are thin steps around it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import yaml
from prometheus_client import CollectorRegistry, Gauge, start_http_server
from prometheus_client.parser import text_string_to_metric_families

from sora.backup.settings import BackupSettings
from sora.backup.sqlite import BackupError

log = logging.getLogger("sora.backup.replication")

# Litestream's own metrics listen on loopback only: the sidecar's port serves ours.
LITESTREAM_METRICS_ADDR: Final = "127.0.0.1:9091"
SNAPSHOT_INTERVAL_HOURS: Final = 24
L0_DIRECTORY: Final = "0000"  # Litestream 0.5 keeps its newest, uncompacted files here


def litestream_config(settings: BackupSettings, metrics_addr: str) -> dict[str, Any]:
    """The Litestream configuration for the feedback database.

    Snapshots are kept ``retentionDays`` (at least one day: a window shorter than one
    snapshot interval would leave nothing to restore from); the WAL is read every
    second and shipped every second, the recovery point this buys.
    """
    retention_hours = max(settings.retention_days, 1) * 24
    replica: dict[str, Any] = {
        "type": "s3",
        "bucket": settings.bucket,
        "path": settings.replica_prefix,
        "sync-interval": "1s",
    }
    if settings.endpoint_url:
        # S3-compatible servers (MinIO, moto) want path-style addressing.
        replica |= {"endpoint": settings.endpoint_url, "force-path-style": True}
    if settings.region:
        replica["region"] = settings.region
    return {
        "addr": metrics_addr,
        "logging": {"level": "info", "type": "json", "stderr": True},
        "snapshot": {
            "interval": f"{min(SNAPSHOT_INTERVAL_HOURS, retention_hours)}h",
            "retention": f"{retention_hours}h",
        },
        "dbs": [
            {
                "path": str(settings.database_path.resolve()),
                "monitor-interval": "1s",
                "replica": replica,
            }
        ],
    }


def litestream_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment for ``litestream``: ours, without AWS_CA_BUNDLE.

    Litestream's S3 client cannot load a custom CA bundle (it stops with "unable to add
    custom RootCAs"); it trusts the system store, and SSL_CERT_FILE where one is set.
    """
    return {name: value for name, value in environ.items() if name != "AWS_CA_BUNDLE"}


@contextlib.contextmanager
def config_file(settings: BackupSettings, metrics_addr: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sora-litestream-") as folder:
        path = Path(folder) / "litestream.yml"
        path.write_text(yaml.safe_dump(litestream_config(settings, metrics_addr)))
        yield path


def _litestream(settings: BackupSettings, config: Path, *args: str) -> str:
    command, *rest = args
    try:
        completed = subprocess.run(
            [settings.litestream_bin, command, "-config", str(config), "-no-expand-env", *rest],
            env=litestream_environment(os.environ),
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
    except OSError as error:
        raise BackupError(f"cannot run {settings.litestream_bin}: {error.strerror}") from error
    if completed.returncode != 0:
        lines = [line for line in completed.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {completed.returncode}"
        raise BackupError(f"litestream {command} failed: {reason}")
    return completed.stdout


# --- the retained window ---------------------------------------------------------


@dataclass(frozen=True)
class RetainedWindow:
    """The moments a restore from the replica can land on."""

    earliest: datetime  # the oldest snapshot
    latest: datetime  # the newest replicated transaction


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def retained_window(files: list[dict[str, Any]]) -> RetainedWindow | None:
    """From ``litestream ltx -level all -json``: snapshots (level 9) start the window."""
    snapshots = [_timestamp(f["timestamp"]) for f in files if int(f["level"]) == 9]
    if not snapshots:
        return None
    return RetainedWindow(
        earliest=min(snapshots), latest=max(_timestamp(f["timestamp"]) for f in files)
    )


def refusal(when: datetime, now: datetime, window: RetainedWindow | None, location: str) -> str:
    """Why a restore to ``when`` cannot be done, or "" when it can."""
    if window is None:
        return f"no replica under {location}: continuous replication has not run there yet"
    if when > now:
        return f"{when.isoformat()} is in the future (now {now.isoformat(timespec='seconds')})"
    if when < window.earliest:
        return (
            f"{when.isoformat()} is outside the retained window: the replica under {location}"
            f" goes back to {window.earliest.isoformat()} (retentionDays)"
        )
    return ""


def parse_point_in_time(text: str) -> datetime:
    """An RFC 3339 time with its offset (``2026-11-28T09:15:00Z``); a bare local time is refused."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BackupError(f"--to-time {text!r} is not an RFC 3339 time") from None
    if when.tzinfo is None:
        raise BackupError(f"--to-time {text!r} has no offset; write it as UTC (…Z) or +HH:MM")
    return when.astimezone(UTC)


def restore_into(settings: BackupSettings, output: Path, when: datetime | None) -> RetainedWindow:
    """Restore the replica's state at ``when`` (its newest state if None) into ``output``."""
    location = f"s3://{settings.bucket}/{settings.replica_prefix}"
    with config_file(settings, LITESTREAM_METRICS_ADDR) as config:
        database = str(settings.database_path.resolve())
        listing = _litestream(settings, config, "ltx", "-level", "all", "-json", database)
        window = retained_window(json.loads(listing or "[]"))
        if when is not None and (reason := refusal(when, datetime.now(UTC), window, location)):
            raise BackupError(reason)
        if window is None:
            raise BackupError(refusal(datetime.now(UTC), datetime.now(UTC), window, location))
        args = ["restore", "-o", str(output)]
        if when is not None:
            args += ["-timestamp", when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")]
        _litestream(settings, config, *args, database)
    return window


def local_state_of(database: Path) -> Path:
    """Litestream's local bookkeeping for ``database`` (it must go with a swapped file)."""
    return database.with_name(f".{database.name}-litestream")


# --- replication lag -------------------------------------------------------------


@dataclass
class LagTracker:
    """Seconds the replica is behind: how long ago the oldest unreplicated transaction
    was first seen in the database (0 when the replica has everything seen so far)."""

    pending: list[tuple[int, float]] = field(default_factory=list)  # (txid, first seen)
    newest_local: int = 0

    def observe(self, now: float, local_txid: int, replica_txid: int) -> float:
        if local_txid > self.newest_local:
            self.pending.append((local_txid, now))
            self.newest_local = local_txid
        self.pending = [(txid, seen) for txid, seen in self.pending if txid > replica_txid]
        return now - self.pending[0][1] if self.pending else 0.0


def txid_of_key(key: str) -> int:
    """``…/0000/000000000000002a-0000000000000031.ltx`` → 0x31 (the file's last txid)."""
    return int(key.rsplit("/", 1)[-1].removesuffix(".ltx").split("-")[-1], 16)


def local_txid(metrics_text: str, database: Path) -> int | None:
    """Litestream's ``litestream_txid`` for ``database`` from its metrics page."""
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "litestream_txid" and sample.labels.get("db") == str(database):
                return int(sample.value)
    return None


class ReplicationMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.lag = Gauge(
            "sora_replication_lag_seconds",
            "Seconds the replica is behind the database (oldest unreplicated transaction)",
            registry=self.registry,
        )
        self.local = Gauge(
            "sora_replication_local_txid", "Newest transaction seen locally", registry=self.registry
        )
        self.replica = Gauge(
            "sora_replication_replica_txid", "Newest transaction in S3", registry=self.registry
        )
        self.probed = Gauge(
            "sora_replication_last_probe_timestamp_seconds",
            "When the lag was last measured",
            registry=self.registry,
        )


def _replica_txid(s3: Any, settings: BackupSettings) -> int:
    newest = 0
    paginator = s3.get_paginator("list_objects_v2")
    prefix = f"{settings.replica_prefix}/{L0_DIRECTORY}/"
    for page in paginator.paginate(Bucket=settings.bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".ltx"):
                newest = max(newest, txid_of_key(item["Key"]))
    return newest


def _probe(settings: BackupSettings, metrics: ReplicationMetrics, stop: threading.Event) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=settings.endpoint_url, region_name=settings.region)
    tracker = LagTracker()
    database = settings.database_path.resolve()
    while not stop.wait(settings.replication_probe_seconds):
        try:
            url = f"http://{LITESTREAM_METRICS_ADDR}/metrics"
            with urllib.request.urlopen(url, timeout=5) as response:
                local = local_txid(response.read().decode(), database)
            replica = _replica_txid(s3, settings)
        except Exception as error:  # a failed probe is logged and retried, never fatal
            log.warning("replication probe failed: %s", error)
            continue
        if local is None:
            continue
        now = time.time()
        lag = tracker.observe(now, local, replica)
        metrics.lag.set(lag)
        metrics.local.set(local)
        metrics.replica.set(replica)
        metrics.probed.set(now)


def replicate(settings: BackupSettings) -> int:
    """Run Litestream for the database until SIGTERM; serve the lag on our metrics port."""
    if not settings.database_path.exists():
        raise BackupError(f"database not found: {settings.database_path}")
    metrics = ReplicationMetrics()
    start_http_server(settings.replication_metrics_port, registry=metrics.registry)
    stop = threading.Event()
    with config_file(settings, LITESTREAM_METRICS_ADDR) as config:
        command = [settings.litestream_bin, "replicate", "-config", str(config), "-no-expand-env"]
        try:
            child = subprocess.Popen(command, env=litestream_environment(os.environ))
        except OSError as error:
            raise BackupError(f"cannot run {settings.litestream_bin}: {error.strerror}") from error

        def forward(signum: int, frame: object) -> None:
            child.send_signal(signum)  # Litestream syncs what it has, then exits

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, forward)
        probe = threading.Thread(target=_probe, args=(settings, metrics, stop), daemon=True)
        probe.start()
        log.info(
            "replicating",
            extra={
                "database": str(settings.database_path),
                "replica": f"s3://{settings.bucket}/{settings.replica_prefix}",
            },
        )
        code = child.wait()
        stop.set()
    print(f"sora-backup: litestream exited with status {code}", file=sys.stderr)
    return code
