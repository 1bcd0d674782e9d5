"""kill -9 under load: every acknowledged feedback is in the database, aggregates still add up."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from pathlib import Path

import requests

from tests.integration.feedback.conftest import (
    aggregates,
    feedback_server,
    new_address,
    post_feedback,
    rating,
    recount,
    rows,
)
from tests.support.polling import wait_for
from tests.support.processes import Service

WRITERS = 8
LOAD_SECONDS = 3.0


def hammer(
    url: str, stop: threading.Event, acknowledged: dict[int, int], lock: threading.Lock
) -> None:
    """Submit until the server dies; a few clients re-rate the same targets (replacements)."""
    session = requests.Session()
    regulars = [new_address() for _ in range(3)]
    randomness = random.Random()
    while not stop.is_set():
        replace = randomness.random() < 0.3
        address = randomness.choice(regulars) if replace else new_address()
        target = f"crash-{randomness.randrange(20)}"
        value = randomness.randint(1, 5)
        try:
            response = session.post(
                f"{url}/api/feedback",
                json=rating(target, value, comment="survives"),
                headers={"X-Forwarded-For": address},
                timeout=5,
            )
        except requests.RequestException:
            return  # the server is gone
        if response.status_code == 201:
            with lock:
                acknowledged[response.json()["id"]] = value


def test_acknowledged_feedback_survives_kill_9_of_every_server_process(
    tmp_path: Path, catalog: Service
) -> None:
    database = tmp_path / "feedback.db"
    acknowledged: dict[int, int] = {}
    lock, stop = threading.Lock(), threading.Event()
    with feedback_server(tmp_path, catalog.url) as server:
        threads = [
            threading.Thread(target=hammer, args=(server.url, stop, acknowledged, lock))
            for _ in range(WRITERS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(LOAD_SECONDS)
        server.kill()  # SIGKILL to the whole process group, mid-flight
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert len(acknowledged) > 50, "the load did not get going"

    with feedback_server(tmp_path, catalog.url) as restarted:  # recovers the WAL on open
        stored = {row[0] for row in rows(database, "SELECT id FROM feedback")}
        missing = set(acknowledged) - stored
        assert not missing, f"{len(missing)} acknowledged ids lost, e.g. {sorted(missing)[:5]}"
        assert aggregates(database) == recount(database)
        assert rows(database, "PRAGMA integrity_check") == [("ok",)]
        assert post_feedback(restarted.url, rating("after-restart", 5)).status_code == 201


def test_a_worker_killed_mid_flight_is_replaced_and_nothing_acknowledged_is_lost(
    tmp_path: Path, catalog: Service
) -> None:
    """The writer is a thread of the one worker and dies with it; the gunicorn master
    starts a new worker, whose writer carries on with the same file."""
    database = tmp_path / "feedback.db"
    acknowledged: dict[int, int] = {}
    lock, stop = threading.Lock(), threading.Event()
    with feedback_server(tmp_path, catalog.url) as server:
        (worker,) = children(server.process.pid)
        threads = [
            threading.Thread(target=hammer, args=(server.url, stop, acknowledged, lock))
            for _ in range(WRITERS)
        ]
        for thread in threads:
            thread.start()
        wait_for(lambda: len(acknowledged) > 50, 30, "the load to get going")
        os.kill(worker, signal.SIGKILL)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        replacement = wait_for(
            lambda: [pid for pid in children(server.process.pid) if pid != worker],
            30,
            "the master to start another worker",
        )
        assert len(replacement) == 1
        statuses = [
            post_feedback(server.url, rating(f"after-{number}", 4)).status_code
            for number in range(20)
        ]
        assert statuses == [201] * 20
    stored = {row[0] for row in rows(database, "SELECT id FROM feedback")}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged ids lost, e.g. {sorted(missing)[:5]}"
    assert aggregates(database) == recount(database)


def children(parent: int) -> list[int]:
    """Live child processes of ``parent`` (the gunicorn master's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == parent and fields[0] != "Z":
                    found.append(int(entry.name))
    return found
