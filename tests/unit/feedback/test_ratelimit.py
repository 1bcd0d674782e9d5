import concurrent.futures
from typing import Any, ClassVar

import falcon
import falcon.testing
import pytest

from sora.common.web import ApiError
from sora.feedback.auth import AdminGuard
from sora.feedback.ratelimit import (
    Decision,
    Limit,
    RateLimitMiddleware,
    TokenBuckets,
    refill,
    retry_after_header,
    spend,
)

LIMIT = Limit("submit", per_second=0.5, burst=3)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def buckets(clock: Clock) -> TokenBuckets:
    return TokenBuckets(slots=64, clock=clock)


def test_refill_is_linear_and_capped_at_the_burst() -> None:
    assert refill(0.0, 0.0, 2.0, LIMIT) == 1.0
    assert refill(0.0, 0.0, 100.0, LIMIT) == 3.0
    assert refill(2.0, 5.0, 4.0, LIMIT) == 2.0  # a clock going backwards adds nothing


def test_spending_without_a_token_says_when_one_will_be_there() -> None:
    assert spend(1.5, LIMIT) == (Decision(True, 0.0), 0.5)
    decision, left = spend(0.5, LIMIT)
    assert (decision.allowed, decision.retry_after, left) == (False, 1.0, 0.5)


def test_retry_after_is_a_whole_number_of_seconds_at_least_one() -> None:
    assert retry_after_header(Decision(False, 0.2)) == "1"
    assert retry_after_header(Decision(False, 2.1)) == "3"


def test_a_client_gets_its_burst_then_waits(buckets: TokenBuckets, clock: Clock) -> None:
    assert [buckets.take(LIMIT, "client-a").allowed for _ in range(4)] == [True] * 3 + [False]
    refused = buckets.take(LIMIT, "client-a")
    assert refused.retry_after == pytest.approx(2.0)
    clock.now += 2.0
    assert buckets.take(LIMIT, "client-a").allowed


def test_clients_and_limits_have_separate_buckets(buckets: TokenBuckets) -> None:
    for _ in range(3):
        buckets.take(LIMIT, "client-a")
    assert not buckets.take(LIMIT, "client-a").allowed
    assert buckets.take(LIMIT, "client-b").allowed
    assert buckets.take(Limit("read", 10, 5), "client-a").allowed


def test_a_full_table_forgets_the_least_recently_seen_client(clock: Clock) -> None:
    table = TokenBuckets(slots=3, clock=clock)
    for _ in range(3):
        table.take(LIMIT, "spent")  # its burst used up
    table.take(LIMIT, "idle")
    table.take(LIMIT, "spent")  # seen again: now more recent than "idle"
    table.take(LIMIT, "other")
    table.take(LIMIT, "newcomer")  # a fourth client: "idle" is forgotten
    assert len(table) == 3
    assert not table.take(LIMIT, "spent").allowed  # remembered, still without tokens
    for _ in range(3):
        assert table.take(LIMIT, "idle").allowed  # forgotten: a fresh bucket


def test_the_table_holds_at_most_its_slots(clock: Clock) -> None:
    table = TokenBuckets(slots=64, clock=clock)
    for client in range(1000):  # far more clients than slots
        clock.now += 0.001
        assert table.take(LIMIT, f"client-{client}").allowed
    assert len(table) == 64


def test_threads_share_one_allowance(buckets: TokenBuckets) -> None:
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        decisions = list(pool.map(lambda _: buckets.take(LIMIT, "client-a"), range(40)))
    assert sum(decision.allowed for decision in decisions) == LIMIT.burst


# --- The middleware: the admin token --------------------------------------------------------------

ADMIN_TOKEN = "unit-admin-token-3f9c2a"


class Listing:
    """A resource as the middleware sees it: the limit it names per method."""

    rate_limits: ClassVar[dict[str, str]] = {"GET": "submit"}


@pytest.fixture
def middleware(buckets: TokenBuckets) -> RateLimitMiddleware:
    return RateLimitMiddleware(buckets, {"submit": LIMIT}, admin=AdminGuard(ADMIN_TOKEN))


def answers(middleware: RateLimitMiddleware, requests: int, **headers: str) -> list[int]:
    """The status of each request from one client: 200 when let through, else the error's."""
    statuses = []
    for _ in range(requests):
        req = falcon.testing.create_req(headers=headers)
        req.context.client_hash = "client-a"
        params: dict[str, Any] = {}
        try:
            middleware.process_resource(req, falcon.Response(), Listing(), params)
        except ApiError as error:
            statuses.append(int(error.status_code))
        else:
            statuses.append(200)
    return statuses


def test_a_client_over_its_limit_gets_429(middleware: RateLimitMiddleware) -> None:
    assert answers(middleware, 5) == [200] * 3 + [429] * 2


def test_requests_with_the_admin_token_are_not_rate_limited(
    middleware: RateLimitMiddleware,
) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert answers(middleware, 20, **admin) == [200] * 20


def test_admin_requests_leave_the_clients_allowance_untouched(
    middleware: RateLimitMiddleware,
) -> None:
    answers(middleware, 20, Authorization=f"Bearer {ADMIN_TOKEN}")
    assert answers(middleware, 4) == [200] * 3 + [429]


def test_the_admin_token_lets_a_client_over_its_limit_through(
    middleware: RateLimitMiddleware,
) -> None:
    answers(middleware, 5)
    assert answers(middleware, 3, Authorization=f"Bearer {ADMIN_TOKEN}") == [200] * 3


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer wrong-token",
        f"Bearer {ADMIN_TOKEN}x",
        f"Bearer {ADMIN_TOKEN[:-1]}",
        f"Basic {ADMIN_TOKEN}",
        ADMIN_TOKEN,
        "Bearer ",
    ],
)
def test_a_wrong_admin_token_is_rate_limited(
    middleware: RateLimitMiddleware, authorization: str
) -> None:
    assert answers(middleware, 5, Authorization=authorization) == [200] * 3 + [429] * 2


def test_without_an_admin_guard_every_request_counts(buckets: TokenBuckets) -> None:
    middleware = RateLimitMiddleware(buckets, {"submit": LIMIT})
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert answers(middleware, 4, **admin) == [200] * 3 + [429]
