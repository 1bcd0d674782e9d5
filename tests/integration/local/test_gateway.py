"""The gateway as the seed's nginx: its own 1 MiB limit, upstream answers relayed as given."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from tests.integration.local.conftest import Platform

MIB = 1024 * 1024
TOO_LARGE = {"error": "Request body is larger than 1 MiB", "max_bytes": MIB}


def _padded_feedback(size: int) -> bytes:
    """A valid feedback body of exactly ``size`` bytes (the padding is an ignored field)."""
    body = {"target_type": "extension", "target_id": "word-count", "rating": 4, "pad": ""}
    bare = len(json.dumps(body).encode())
    body["pad"] = "x" * (size - bare)
    data = json.dumps(body).encode()
    assert len(data) == size
    return data


def _chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _post_feedback(platform: Platform, size: int, chunked: bool, client: str) -> requests.Response:
    data = _padded_feedback(size)
    return requests.post(
        f"{platform.url}/api/feedback",
        data=_chunks(data) if chunked else data,
        headers={"Content-Type": "application/json", "X-Forwarded-For": client},
        timeout=30,
    )


@pytest.mark.parametrize(
    ("size", "chunked"), [(MIB + 1, False), (2 * MIB, False), (20 * MIB, False), (2 * MIB, True)]
)
def test_feedback_over_one_mib_is_refused_by_the_gateway_in_json(
    platform: Platform, size: int, chunked: bool
) -> None:
    response = _post_feedback(platform, size, chunked, "198.51.100.1")
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


@pytest.mark.parametrize(
    ("size", "chunked", "client"),
    [(MIB, False, "198.51.100.2"), (300 * 1024, True, "198.51.100.3")],
)
def test_feedback_up_to_one_mib_reaches_the_feedback_api(
    platform: Platform, size: int, chunked: bool, client: str
) -> None:
    response = _post_feedback(platform, size, chunked, client)
    assert response.status_code == 201, response.text


def test_an_early_upstream_refusal_is_relayed_unchanged(platform: Platform) -> None:
    """The admin panel refuses a form over 16 KiB before reading it; that answer gets through."""
    form = b"token=" + b"x" * (8 * MIB)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    direct = requests.post(
        f"{platform.service_url(2)}/admin/login", data=form, headers=headers, timeout=30
    )
    relayed = requests.post(f"{platform.url}/admin/login", data=form, headers=headers, timeout=30)
    assert direct.status_code == 413
    assert (relayed.status_code, relayed.content) == (direct.status_code, direct.content)


def test_a_rate_limited_feedback_post_is_relayed_as_429(platform: Platform) -> None:
    """The feedback API answers 429 before reading the body; the client sees that 429."""
    statuses = []
    for _ in range(200):
        statuses.append(_post_feedback(platform, 200, False, "198.51.100.77").status_code)
        if statuses[-1] == 429:
            break
    assert statuses[-1] == 429, statuses
    large = _post_feedback(platform, MIB, False, "198.51.100.77")
    assert large.status_code == 429
    assert "error" in large.json()
