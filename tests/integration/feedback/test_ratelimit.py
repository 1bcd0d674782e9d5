"""Rate limiting per salted client address, over the server's one worker and its threads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.integration.feedback.conftest import (
    ADMIN,
    feedback_server,
    new_address,
    new_target_id,
    post_feedback,
    rating,
)
from tests.support.processes import Service

BURST = 4


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, catalog: Service) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("feedback-ratelimit")
    with feedback_server(
        tmp,
        catalog.url,
        RATE_LIMIT_SUBMIT_PER_MINUTE="6",
        RATE_LIMIT_SUBMIT_BURST=str(BURST),
        RATE_LIMIT_READ_PER_MINUTE="6",
        RATE_LIMIT_READ_BURST=str(BURST),
    ) as service:
        yield service


def test_a_client_over_its_limit_gets_429_with_retry_after_across_connections(
    limited: Service,
) -> None:
    address = new_address()
    # A fresh connection per request: the requests land on different threads.
    statuses = [
        post_feedback(limited.url, rating(new_target_id(), 3), address).status_code
        for _ in range(BURST + 2)
    ]
    assert statuses == [201] * BURST + [429, 429]
    refused = post_feedback(limited.url, rating(new_target_id(), 3), address)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert refused.json() == {
        "error": "Too many requests",
        "retry_after": int(refused.headers["Retry-After"]),
    }


def test_other_clients_keep_their_own_allowance(limited: Service) -> None:
    busy = new_address()
    for _ in range(BURST + 1):
        post_feedback(limited.url, rating(new_target_id(), 3), busy)
    assert post_feedback(limited.url, rating(new_target_id(), 3)).status_code == 201


def test_reads_have_their_own_limit(limited: Service) -> None:
    address = new_address()
    statuses = [
        requests.get(
            f"{limited.url}/api/stats", headers={"X-Forwarded-For": address}, timeout=10
        ).status_code
        for _ in range(BURST + 1)
    ]
    assert statuses == [200] * BURST + [429]
    assert post_feedback(limited.url, rating(new_target_id(), 3), address).status_code == 201


def reads(
    service: Service, path: str, address: str, count: int, headers: dict[str, str] | None = None
) -> list[int]:
    """Statuses of ``count`` GETs from one client, each on a fresh connection (any thread)."""
    return [
        requests.get(
            f"{service.url}{path}",
            headers={"X-Forwarded-For": address, **(headers or {})},
            timeout=10,
        ).status_code
        for _ in range(count)
    ]


def test_the_admin_token_exempts_the_admin_panel_from_the_limit(limited: Service) -> None:
    # The admin panel calls from one address for every moderator: at the rate that gets an
    # ordinary client 429s, its requests with the admin token all go through.
    client, panel = new_address(), new_address()
    assert reads(limited, "/api/stats", client, 3 * BURST) == [200] * BURST + [429] * 2 * BURST
    assert reads(limited, "/api/stats", panel, 3 * BURST, ADMIN) == [200] * 3 * BURST
    assert reads(limited, "/api/feedback", panel, 3 * BURST, ADMIN) == [200] * 3 * BURST


def test_the_admin_token_lets_a_client_over_its_limit_through(limited: Service) -> None:
    address = new_address()
    assert reads(limited, "/api/stats", address, BURST + 1)[-1] == 429
    assert reads(limited, "/api/feedback", address, BURST, ADMIN) == [200] * BURST
    assert reads(limited, "/api/stats", address, 1) == [429]


def test_a_wrong_admin_token_is_still_rate_limited(limited: Service) -> None:
    # Otherwise any Authorization header would bypass the limit, and guessing the token
    # would be unlimited.
    address = new_address()
    wrong = {"Authorization": "Bearer not-the-admin-token"}
    statuses = reads(limited, "/api/feedback", address, BURST + 2, wrong)
    assert statuses == [401] * BURST + [429, 429]
    assert reads(limited, "/api/stats", address, 1, wrong) == [429]


def test_health_is_never_rate_limited(limited: Service) -> None:
    assert all(
        requests.get(f"{limited.url}/health", timeout=10).status_code == 200
        for _ in range(BURST + 2)
    )
