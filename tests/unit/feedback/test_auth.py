"""The admin bearer token check, shared by the admin endpoints and the rate limit."""

import pytest

from sora.feedback.auth import AdminGuard

TOKEN = "unit-admin-token-3f9c2a"


@pytest.fixture
def guard() -> AdminGuard:
    return AdminGuard(TOKEN)


@pytest.mark.parametrize(
    "authorization", [f"Bearer {TOKEN}", f"bearer {TOKEN}", f"  BEARER   {TOKEN}  "]
)
def test_the_admin_token_is_accepted_as_a_bearer_credential(
    guard: AdminGuard, authorization: str
) -> None:
    assert guard.allows(authorization)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-token",
        f"Bearer {TOKEN.upper()}",
        f"Bearer {TOKEN}{TOKEN}",
        f"Basic {TOKEN}",
        TOKEN,
    ],
)
def test_anything_else_is_refused(guard: AdminGuard, authorization: str | None) -> None:
    assert not guard.allows(authorization)
