"""``sora-backup replicate`` (Litestream) as a real process, and what its metrics say."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.processes import Service, free_port, program, running


def replication_env(
    s3_env: Mapping[str, str], bucket: str, database: Path, **extra: str
) -> dict[str, str]:
    return {
        **s3_env,
        "BACKUP_BUCKET": bucket,
        "BACKUP_PREFIX": "database/test/",
        "BACKUP_REPLICA_PREFIX": "replica/test",
        "DATABASE_PATH": str(database),
        "REPLICATION_PROBE_SECONDS": "0.25",
        "LOG_FORMAT": "json",
        **extra,
    }


@contextlib.contextmanager
def replicating(env: Mapping[str, str], log: Path) -> Iterator[Service]:
    """``sora-backup replicate`` until the block ends (SIGTERM: Litestream syncs, then exits)."""
    port = free_port()
    command = [program("sora-backup"), "replicate"]
    with running(command, {**env, "REPLICATION_METRICS_PORT": str(port)}, log, "/", port) as svc:
        yield svc


def replication_state(service: Service) -> dict[str, float]:
    """``sora_replication_*`` gauges by short name (lag_seconds, local_txid, replica_txid)."""
    text = requests.get(f"{service.url}/metrics", timeout=5).text
    return {
        sample.name.removeprefix("sora_replication_"): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("sora_replication_")
    }


def caught_up(service: Service, txid: float = 0) -> dict[str, float] | None:
    """The state once the replica holds every transaction seen locally (and ``txid``)."""
    state = replication_state(service)
    local, replica = state.get("local_txid", 0), state.get("replica_txid", 0)
    return state if local > 0 and replica >= max(local, txid) else None


def backup_cli(env: Mapping[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    completed = subprocess.run(
        [program("sora-backup"), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    return completed.returncode, json.loads(lines[-1]) if lines else {}, completed.stderr


def next_measurement(service: Service, after: float) -> dict[str, float] | None:
    """The state once the lag has been measured again after the probe time ``after``."""
    state = replication_state(service)
    return state if state.get("last_probe_timestamp_seconds", 0) > after else None
