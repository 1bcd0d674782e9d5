"""Kept public reads, in-process over a real SQLite file and the real application: a kept
body is never older than the clock allows (the day for ``/api/stats``, the second where
figures decay), and never misses a commit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import falcon.testing
import pytest

from sora.feedback.app import create_app
from sora.feedback.catalog import CatalogState
from sora.feedback.model import NewFeedback, Target
from sora.feedback.settings import FeedbackSettings
from sora.feedback.sqlite import SQLiteStore, prepare_database
from sora_contract.settings import Env

NOW = 1_795_000_000_000
DAY_MS = 86_400_000
RATED = Target("extension", "rated")
READS = ("/api/stats?days=2", "/api/stats/extension/rated?days=2", "/api/recommendations")


class Listed:
    """A catalog that always has the one rated target (the catalog is not under test)."""

    targets = frozenset({RATED})

    def for_writes(self) -> frozenset[Target]:
        return self.targets

    def for_reads(self) -> frozenset[Target]:
        return self.targets

    def state(self) -> CatalogState:
        return "ok"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[falcon.testing.TestClient, SQLiteStore, list[int]]]:
    prepare_database(tmp_path / "feedback.db")
    store = SQLiteStore(tmp_path / "feedback.db")
    store.submit(NewFeedback(RATED, bytes(32), 5, None, None, None, NOW))
    clock = [NOW]
    settings = FeedbackSettings.from_env(Env({"SORA_ENV": "development"}))
    app = create_app(settings, store=store, catalog=Listed(), clock=lambda: clock[0])
    yield falcon.testing.TestClient(app), store, clock
    store.close()


@pytest.mark.parametrize("path", READS)
def test_a_repeated_read_is_the_same_body(
    served: tuple[falcon.testing.TestClient, SQLiteStore, list[int]], path: str
) -> None:
    client, _, _ = served
    first = client.simulate_get(path)
    assert first.status_code == 200
    assert client.simulate_get(path).content == first.content


@pytest.mark.parametrize("path", READS)
def test_a_kept_body_does_not_outlive_its_time(
    served: tuple[falcon.testing.TestClient, SQLiteStore, list[int]], path: str
) -> None:
    """A day later the window (and the trending) moved: the body must too."""
    client, _, clock = served
    before = client.simulate_get(path).content
    clock[0] += DAY_MS
    assert client.simulate_get(path).content != before


@pytest.mark.parametrize("path", READS)
def test_a_kept_body_does_not_outlive_a_commit(
    served: tuple[falcon.testing.TestClient, SQLiteStore, list[int]], path: str
) -> None:
    client, store, _ = served
    before = client.simulate_get(path).content
    store.submit(NewFeedback(RATED, bytes(31) + b"\x01", 1, None, None, None, NOW))
    assert client.simulate_get(path).content != before
