"""Real ``sora-feedback-api`` processes (gunicorn, its one worker) on real SQLite files,
checking targets against a real ``sora-file-server`` that serves a test catalog."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.catalog import catalog_server, write_catalog
from tests.support.processes import Service, free_port, program, running

ADMIN_TOKEN = "integration-admin-token-5d8e1b"
ENCRYPTION_KEY = "test-key-32-characters-long-key"  # the seed's 31-character test key
SECRETS = {
    "IP_SALT": "feedback-integration-salt-7c2f9a",
    "ENCRYPTION_KEY": ENCRYPTION_KEY,
    "ADMIN_TOKEN": ADMIN_TOKEN,
}
GENEROUS_LIMITS = {
    "RATE_LIMIT_SUBMIT_PER_MINUTE": "6000000",
    "RATE_LIMIT_SUBMIT_BURST": "100000",
    "RATE_LIMIT_READ_PER_MINUTE": "6000000",
    "RATE_LIMIT_READ_BURST": "100000",
}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
_addresses = itertools.count(1)

# The test catalog: every id below is both an extension and a layout. Tests that need
# targets of their own take fresh ones from the pool (new_target_id).
NAMED_TARGETS = (
    "lone-five", "well-liked", "disliked", "grid", "stack", "never-rated", "before",
    "after-restart", *(f"after-{n}" for n in range(20)), *(f"crash-{n}" for n in range(20)),
)  # fmt: skip
POOL = tuple(f"t-{number:04d}" for number in range(500))
_pool = iter(POOL)


@pytest.fixture(scope="session")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The file server every feedback API of the session checks its targets against."""
    tmp = tmp_path_factory.mktemp("feedback-catalog")
    write_catalog(tmp / "storage", (*NAMED_TARGETS, *POOL))
    with catalog_server(tmp, tmp / "storage") as service:
        yield service


def server_env(tmp: Path, catalog_url: str, **extra: str) -> dict[str, str]:
    return {
        "SORA_ENV": "test",
        **SECRETS,
        **GENEROUS_LIMITS,
        "LOG_FORMAT": "json",
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "DATABASE_PATH": str(tmp / "feedback.db"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
        "FILE_SERVER_URL": catalog_url,
        **extra,
    }


@contextlib.contextmanager
def feedback_server(tmp: Path, catalog_url: str, **extra: str) -> Iterator[Service]:
    """A feedback API checking targets against the file server at ``catalog_url``."""
    port = free_port()
    env = {**server_env(tmp, catalog_url, **extra), "PORT": str(port)}
    with running([program("sora-feedback-api")], env, tmp / "server.log", "/health", port) as svc:
        yield svc


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory, catalog: Service) -> Iterator[Service]:
    """One server shared by the contract tests; each test uses its own targets and clients."""
    tmp = tmp_path_factory.mktemp("feedback-api")
    with feedback_server(tmp, catalog.url) as service:
        service.extra["database"] = tmp / "feedback.db"
        yield service


def new_address() -> str:
    """A client address of its own (sent as X-Forwarded-For through the trusted proxy)."""
    number = next(_addresses)
    return f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"


def new_target_id() -> str:
    """A catalogued id no other test of the session has used (for both target types)."""
    try:
        return next(_pool)
    except StopIteration:
        raise AssertionError(f"the test catalog's {len(POOL)} pool ids are used up") from None


def post_feedback(
    url: str, body: dict[str, Any], address: str | None = None, **kwargs: Any
) -> requests.Response:
    headers = {"X-Forwarded-For": address or new_address(), **kwargs.pop("headers", {})}
    return requests.post(f"{url}/api/feedback", json=body, headers=headers, timeout=10, **kwargs)


def rating(
    target_id: str, value: int, target_type: str = "extension", **fields: Any
) -> dict[str, Any]:
    return {"target_type": target_type, "target_id": target_id, "rating": value, **fields}


def aggregates(database: Path) -> dict[str, Any]:
    """What the store keeps up to date on each write."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        return {
            "targets": sorted(
                conn.execute(
                    "SELECT target_type, target_id, count, rating_sum, r1, r2, r3, r4, r5"
                    " FROM targets WHERE count > 0"
                ).fetchall()
            ),
            "kinds": sorted(
                conn.execute(
                    "SELECT target_type, count, rating_sum, r1, r2, r3, r4, r5, targets FROM kinds"
                ).fetchall()
            ),
            "days": sorted(conn.execute("SELECT day, count, rating_sum FROM days").fetchall()),
            "target_days": sorted(
                conn.execute(
                    "SELECT t.target_type, t.target_id, d.day, d.count, d.rating_sum"
                    " FROM target_days d JOIN targets t ON t.id = d.target_ref"
                ).fetchall()
            ),
        }


def recount(database: Path) -> dict[str, Any]:
    """The same figures computed from the visible feedback rows, independently of the store."""
    visible = "FROM feedback f JOIN targets t ON t.id = f.target_ref WHERE f.hidden = 0"
    day = "date(f.submitted_at / 1000, 'unixepoch')"
    stars = ", ".join(f"sum(f.rating = {star})" for star in range(1, 6))
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        kinds = {
            row[0]: row
            for row in conn.execute(
                f"SELECT t.target_type, count(*), sum(f.rating), {stars},"
                f" count(DISTINCT f.target_ref) {visible} GROUP BY 1"
            )
        }
        return {
            "targets": sorted(
                conn.execute(
                    f"SELECT t.target_type, t.target_id, count(*), sum(f.rating), {stars}"
                    f" {visible} GROUP BY f.target_ref"
                ).fetchall()
            ),
            "kinds": sorted(
                kinds.get(kind, (kind, 0, 0, 0, 0, 0, 0, 0, 0)) for kind in ("extension", "layout")
            ),
            "days": sorted(
                conn.execute(
                    f"SELECT {day}, count(*), sum(f.rating) {visible} GROUP BY 1"
                ).fetchall()
            ),
            "target_days": sorted(
                conn.execute(
                    f"SELECT t.target_type, t.target_id, {day}, count(*), sum(f.rating)"
                    f" {visible} GROUP BY f.target_ref, 3"
                ).fetchall()
            ),
        }


def rows(database: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        return conn.execute(sql, params).fetchall()
