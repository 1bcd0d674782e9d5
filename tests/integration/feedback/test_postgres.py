"""The PostgreSQL store on a real server: exact aggregates under concurrent writers from
several processes and replicas, migrations applied once, kill -9 of a replica, a database
that goes away. (The HTTP contract runs on both engines through the ``engine`` fixture.)"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings

from sora.feedback import ranking
from sora.feedback.model import Target
from sora.feedback.postgres import PostgresStore, prepare_database
from tests.integration.feedback.conftest import (
    feedback_server,
    new_address,
    pg_aggregates,
    pg_recount,
    pg_rows,
    rating,
)
from tests.integration.feedback.test_store import DAY_MS, NOW, entry, operations
from tests.support.polling import wait_for
from tests.support.postgres import PostgresServer, postgres_server
from tests.support.processes import Service

REPLICA = {"WEB_CONCURRENCY": "3", "WEB_THREADS": "4", "DATABASE_POOL_SIZE": "4"}


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    prepare_database(postgres_url)
    opened = PostgresStore(postgres_url)
    yield opened
    opened.close()


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(operations)
def test_aggregates_always_equal_a_recount_from_the_rows(
    postgres: PostgresServer, ops: list[tuple[Any, ...]]
) -> None:
    url = postgres.create_database("hypothesis")
    prepare_database(url)
    store = PostgresStore(url)
    try:
        for op in ops:
            if op[0] == "submit":
                _, client, target, value, age = op
                store.submit(entry(int(client), str(target), int(value), NOW - int(age) * DAY_MS))
            elif op[0] == "delete":
                store.delete(int(op[1]))
            else:
                store.set_hidden(int(op[1]), op[0] == "hide")
        assert pg_aggregates(url) == pg_recount(url)
        assert_trending_matches_the_rows(store, url)
    finally:
        store.close()


def assert_trending_matches_the_rows(store: PostgresStore, url: str) -> None:
    for target_type, target_id in pg_rows(url, "SELECT target_type, target_id FROM targets"):
        found = store.target(Target(target_type, target_id))
        assert found is not None
        expected = sum(
            ranking.trend_weight(value) * 2 ** (-(NOW - at) / ranking.TREND_HALF_LIFE_MS)
            for value, at in pg_rows(
                url,
                "SELECT f.rating, f.submitted_at FROM feedback f"
                " JOIN targets t ON t.id = f.target_ref"
                " WHERE NOT f.hidden AND t.target_type = %s AND t.target_id = %s",
                (target_type, target_id),
            )
        )
        assert ranking.trending_now(found.trend_log2, NOW) == pytest.approx(expected, abs=1e-6)


def test_scores_match_the_sqlite_formula_exactly(store: PostgresStore) -> None:
    for client, value in enumerate([5, 4, 4, 1, 3, 5, 2]):
        store.submit(entry(client, "scored", value))
    found = store.target(Target("extension", "scored"))
    assert found is not None
    assert found.score == ranking.bayesian_average(7, 24)


def test_recount_gives_back_what_the_increments_kept(store: PostgresStore) -> None:
    for client in range(40):
        store.submit(entry(client, f"r{client % 4}", 1 + client % 5, NOW - client * DAY_MS))
    store.set_hidden(3, True)
    store.delete(5)
    before = {t.target: t for t in store.ranked_targets(None, "score", 50)}
    store.recount()
    after = {t.target: t for t in store.ranked_targets(None, "score", 50)}
    assert before.keys() == after.keys()
    for target, kept in before.items():
        assert (kept.count, kept.rating_sum, kept.histogram, kept.score) == (
            after[target].count, after[target].rating_sum, after[target].histogram,
            after[target].score,
        )  # fmt: skip
        assert kept.trend_log2 == pytest.approx(after[target].trend_log2, abs=1e-9)


def test_migrations_are_applied_once_when_replicas_start_together(postgres_url: str) -> None:
    with ThreadPoolExecutor(8) as pool:
        applied = list(pool.map(lambda _: prepare_database(postgres_url), range(8)))
    assert sorted(len(each) for each in applied) == [0] * 7 + [1]
    assert pg_rows(postgres_url, "SELECT version, name FROM schema_migrations") == [(1, "initial")]


def test_a_database_from_a_newer_release_is_refused(postgres_url: str) -> None:
    prepare_database(postgres_url)
    pg_rows(postgres_url, "INSERT INTO schema_migrations VALUES (999, 'future', 0) RETURNING 1")
    with pytest.raises(Exception, match="newer than this program knows"):
        prepare_database(postgres_url)


def submit_until(
    url: str, stop: threading.Event, acknowledged: dict[int, int], lock: threading.Lock
) -> None:
    """Rate a few shared targets until told to stop (or the server is gone); a third of the
    submissions come from regular clients re-rating the same target (replacements)."""
    session = requests.Session()
    regulars = [new_address() for _ in range(4)]
    randomness = random.Random()
    while not stop.is_set():
        replace = randomness.random() < 0.3
        value = randomness.randint(1, 5)
        try:
            response = session.post(
                f"{url}/api/feedback",
                json=rating(f"crash-{randomness.randrange(6)}", value, comment="counted"),
                headers={
                    "X-Forwarded-For": randomness.choice(regulars) if replace else new_address()
                },
                timeout=10,
            )
        except requests.RequestException:
            return
        if response.status_code == 201:
            with lock:
                acknowledged[response.json()["id"]] = value


Load = tuple[threading.Event, list[threading.Thread], dict[int, int]]


def load(urls: list[str], writers_per_url: int) -> Load:
    """Writers on every URL; the dict fills with acknowledged ids and their ratings."""
    stop = threading.Event()
    acknowledged: dict[int, int] = {}
    lock = threading.Lock()
    threads = [
        threading.Thread(target=submit_until, args=(url, stop, acknowledged, lock), daemon=True)
        for url in urls
        for _ in range(writers_per_url)
    ]
    for thread in threads:
        thread.start()
    return stop, threads, acknowledged


def replica(
    tmp: Path, name: str, catalog: Service, url: str
) -> contextlib.AbstractContextManager[Service]:
    """One "replica": a feedback API of several gunicorn processes on the shared database."""
    folder = tmp / name
    folder.mkdir()
    return feedback_server(folder, catalog.url, DATABASE_URL=url, **REPLICA)


def test_two_replicas_of_several_processes_keep_exact_aggregates(
    tmp_path: Path, catalog: Service, postgres_url: str
) -> None:
    with (
        replica(tmp_path, "a", catalog, postgres_url) as first,
        replica(tmp_path, "b", catalog, postgres_url) as second,
    ):
        stop, threads, acknowledged = load([first.url, second.url], 6)
        wait_for(lambda: len(acknowledged) >= 600, 120, "600 acknowledged submissions")
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    stored = dict(pg_rows(postgres_url, "SELECT id, rating FROM feedback"))
    assert {i: stored.get(i) for i in acknowledged} == acknowledged  # last answer per id won
    assert pg_aggregates(postgres_url) == pg_recount(postgres_url)


def test_kill_9_of_a_replica_under_load_loses_no_acknowledged_write(
    tmp_path: Path, catalog: Service, postgres_url: str
) -> None:
    with (
        replica(tmp_path, "survivor", catalog, postgres_url) as survivor,
        replica(tmp_path, "victim", catalog, postgres_url) as victim,
    ):
        stop, threads, acknowledged = load([survivor.url, victim.url], 4)
        wait_for(lambda: len(acknowledged) >= 200, 120, "200 acknowledged submissions")
        victim.kill()  # SIGKILL to its whole process group, mid-flight
        count = len(acknowledged)
        wait_for(lambda: len(acknowledged) >= count + 100, 120, "the survivor to go on")
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    stored = {row[0] for row in pg_rows(postgres_url, "SELECT id FROM feedback")}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged ids lost, e.g. {sorted(missing)[:5]}"
    assert pg_aggregates(postgres_url) == pg_recount(postgres_url)


def test_a_database_that_goes_away_gives_503_json_and_health_says_so(
    tmp_path: Path, catalog: Service
) -> None:
    with postgres_server() as server:
        url = server.create_database()
        env = {"DATABASE_URL": url, "DATABASE_TIMEOUT_SECONDS": "1"}
        with feedback_server(tmp_path, catalog.url, **env) as api:
            assert (
                requests.post(
                    f"{api.url}/api/feedback", json=rating("before", 4), timeout=10
                ).status_code
                == 201
            )
            server.stop()
            failed = requests.post(f"{api.url}/api/feedback", json=rating("before", 5), timeout=30)
            assert failed.status_code == 503
            assert failed.json()["error"] == "Storage unavailable, retry later"
            assert failed.headers["Retry-After"] == "1"
            health = requests.get(f"{api.url}/health", timeout=30)
            assert (health.status_code, health.json()["database"]) == (503, "unavailable")
            assert url.split("@")[0] not in api.logs()  # nor the URL's user part in the logs

            server.start_again()
            wait_for(
                lambda: requests.get(f"{api.url}/health", timeout=30).status_code == 200,
                60,
                "the API to use the database again",
            )
            again = requests.post(f"{api.url}/api/feedback", json=rating("after-1", 3), timeout=10)
            assert again.status_code == 201


def test_a_submission_is_one_transaction_against_the_constraints(store: PostgresStore) -> None:
    """A row the database refuses (here: a client hash of the wrong size) leaves nothing."""
    bad = entry(1, "refused", 3)
    with pytest.raises(Exception, match="client_hash"):
        store.submit(type(bad)(bad.target, b"short", 3, None, None, None, NOW))
    assert store.target(Target("extension", "refused")) is None
    assert pg_aggregates(store.url)["kinds"] == pg_recount(store.url)["kinds"]
