"""The feedback API beside Litestream: replication keeps up with a steady write load, and
after kill -9 and the loss of the database files the replica holds every acknowledged
write older than the lag (the recovery point is measured and printed)."""

from __future__ import annotations

import functools
import shutil
import threading
import time
from pathlib import Path

import requests

from tests.integration.feedback.conftest import feedback_server, new_address, rating, rows
from tests.support.polling import wait_for
from tests.support.processes import Service
from tests.support.replication import (
    backup_cli,
    next_measurement,
    replicating,
    replication_env,
)

WRITERS = 4
LAG_BOUND_SECONDS = 10.0  # "within seconds": the old daily copy lost up to 86,400


class SteadyLoad:
    """Clients submitting feedback until told to stop; each acknowledgement is timed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.acknowledged: dict[int, float] = {}  # feedback id -> when the 201 arrived
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.threads = [threading.Thread(target=self._submit, args=(n,)) for n in range(WRITERS)]

    def _submit(self, number: int) -> None:
        session = requests.Session()
        sent = 0
        while not self.stop.is_set():
            body = rating(f"crash-{(number * 5 + sent) % 20}", sent % 5 + 1, comment="kept")
            sent += 1
            try:
                response = session.post(
                    f"{self.url}/api/feedback",
                    json=body,
                    headers={"X-Forwarded-For": new_address()},
                    timeout=5,
                )
            except requests.RequestException:
                return  # the server is gone
            if response.status_code == 201:
                with self.lock:
                    self.acknowledged[response.json()["id"]] = time.time()

    def __enter__(self) -> SteadyLoad:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def test_replica_keeps_every_acknowledged_write_older_than_the_lag_after_kill_9(
    tmp_path: Path, catalog: Service, s3_env: dict[str, str], s3_bucket: str
) -> None:
    database = tmp_path / "feedback.db"
    env = replication_env(s3_env, s3_bucket, database)
    lags: list[float] = []
    with (
        feedback_server(tmp_path, catalog.url, SQLITE_WAL_AUTOCHECKPOINT="0") as server,
        replicating(env, tmp_path / "replicate.log") as replication,
        SteadyLoad(server.url) as load,
    ):
        wait_for(lambda: len(load.acknowledged) > 200, 60, "the load to get going")
        probed = 0.0
        for _ in range(12):  # a dozen fresh measurements under load
            state = wait_for(
                functools.partial(next_measurement, replication, probed),
                30,
                "a new lag measurement",
            )
            probed = state["last_probe_timestamp_seconds"]
            lags.append(state["lag_seconds"])
        killed_at = time.time()
        server.kill()  # SIGKILL to gunicorn and its workers, mid-flight
        replication.kill()  # the volume is lost with its pod: no last sync either
    for leftover in tmp_path.glob("*feedback.db*"):  # the file, -wal, -shm, Litestream's state
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()

    status, _, stderr = backup_cli(env, "restore", "--from", "replica")

    assert status == 0, stderr
    stored = {row[0] for row in rows(database, "SELECT id FROM feedback")}
    acknowledged = load.acknowledged
    missing = {i: at for i, at in acknowledged.items() if i not in stored}
    recovery_point = killed_at - min(missing.values()) if missing else 0.0
    print(
        f"\nreplication lag under load: max {max(lags):.2f} s over {len(lags)} measurements;"
        f" {len(acknowledged)} acknowledged, {len(missing)} lost,"
        f" recovery point {recovery_point:.2f} s"
    )
    assert max(lags) < LAG_BOUND_SECONDS
    assert recovery_point < LAG_BOUND_SECONDS
    assert rows(database, "PRAGMA integrity_check") == [("ok",)]
    assert len(stored) >= len(acknowledged) - len(missing)
