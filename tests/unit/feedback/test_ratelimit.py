from collections.abc import Iterator

import pytest

from sora.feedback.ratelimit import (
    Decision,
    Limit,
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
def buckets(clock: Clock) -> Iterator[TokenBuckets]:
    table = TokenBuckets(slots=64, clock=clock)
    yield table
    table.close()


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


def test_a_full_table_reuses_the_least_recently_used_slot(clock: Clock) -> None:
    table = TokenBuckets(slots=64, clock=clock)
    try:
        for client in range(1000):  # far more clients than slots
            clock.now += 0.001
            assert table.take(LIMIT, f"client-{client}").allowed
    finally:
        table.close()
