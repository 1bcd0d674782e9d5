"""Which responses the access log samples: successful reads of the named routes only."""

from __future__ import annotations

import pytest

from sora.common.web import ReadSampling

SAMPLING = ReadSampling(frozenset({"/api/extensions"}), 10)


@pytest.mark.parametrize(("method", "status"), [("GET", 200), ("HEAD", 200), ("GET", 304)])
def test_successful_reads_of_a_sampled_route_are_sampled(method: str, status: int) -> None:
    assert SAMPLING.applies(method, "/api/extensions", status)


@pytest.mark.parametrize(
    ("method", "route", "status"),
    [
        ("GET", "/api/extensions", 404),  # errors are always logged
        ("GET", "/api/extensions", 500),
        ("POST", "/api/extensions", 201),  # writes are always logged
        ("GET", "/api/extensions/{id}/download", 200),  # other routes are always logged
    ],
)
def test_errors_writes_and_other_routes_are_not_sampled(
    method: str, route: str, status: int
) -> None:
    assert not SAMPLING.applies(method, route, status)


def test_sampling_one_in_one_samples_nothing() -> None:
    assert not ReadSampling(frozenset({"/api/extensions"}), 1).applies(
        "GET", "/api/extensions", 200
    )
