"""Signed session cookies: signing, expiry, tampering, secret rotation, CSRF binding."""

from __future__ import annotations

import pytest

from sora.admin.sessions import ANONYMOUS_LIFETIME_SECONDS, SessionCodec, tokens_match

SECRET = "session-secret-for-unit-tests-0123"
TOKEN = "admin-token-for-unit-tests-4567"
NOW = 1_700_000_000.0


@pytest.fixture
def codec() -> SessionCodec:
    return SessionCodec(SECRET, TOKEN, lifetime_seconds=600)


def test_a_signed_cookie_reads_back_as_the_same_session(codec: SessionCodec) -> None:
    session = codec.new(signed_in=True, now=NOW)
    assert codec.decode(codec.encode(session)) == session


def test_a_signed_in_session_lasts_the_configured_lifetime(codec: SessionCodec) -> None:
    session = codec.new(signed_in=True, now=NOW)
    assert session.active(NOW + 599)
    assert not session.active(NOW + 600)
    assert session.remaining(NOW + 100) == 500


def test_an_anonymous_session_lasts_an_hour(codec: SessionCodec) -> None:
    session = codec.new(signed_in=False, now=NOW)
    assert session.expires_at - session.issued_at == ANONYMOUS_LIFETIME_SECONDS


def test_a_session_issued_in_the_future_is_not_active(codec: SessionCodec) -> None:
    session = codec.new(signed_in=True, now=NOW + 3600)
    assert not session.active(NOW)


def test_each_new_session_has_its_own_id(codec: SessionCodec) -> None:
    assert codec.new(signed_in=True, now=NOW).id != codec.new(signed_in=True, now=NOW).id


@pytest.mark.parametrize(
    "tamper",
    [
        lambda value: value.replace(".0.", ".1.", 1),  # promote an anonymous session
        lambda value: value.rsplit(".", 3)[0] + ".1.1.99999999999." + value.rsplit(".", 1)[1],
        lambda value: value[:-2] + ("AA" if not value.endswith("AA") else "BB"),
        lambda value: value.rsplit(".", 1)[0],
        lambda value: value + ".x",
        lambda value: "",
        lambda value: "é" * 20,
        lambda value: value + "A" * 300,
    ],
)
def test_a_tampered_cookie_is_rejected(codec: SessionCodec, tamper: object) -> None:
    value = codec.encode(codec.new(signed_in=False, now=NOW))
    assert codec.decode(tamper(value)) is None  # type: ignore[operator]


def test_a_cookie_signed_with_another_secret_is_rejected(codec: SessionCodec) -> None:
    other = SessionCodec("another-session-secret-98765", TOKEN, 600)
    assert codec.decode(other.encode(other.new(signed_in=True, now=NOW))) is None


def test_changing_the_admin_token_ends_every_session(codec: SessionCodec) -> None:
    value = codec.encode(codec.new(signed_in=True, now=NOW))
    rotated = SessionCodec(SECRET, "a-new-admin-token-after-rotation", 600)
    assert rotated.decode(value) is None


def test_the_csrf_token_is_bound_to_its_session(codec: SessionCodec) -> None:
    mine, theirs = codec.new(signed_in=True, now=NOW), codec.new(signed_in=True, now=NOW)
    assert codec.csrf_valid(mine, codec.csrf_token(mine))
    assert not codec.csrf_valid(mine, codec.csrf_token(theirs))


@pytest.mark.parametrize("token", [None, "", "x", "\u00e9" * 43])
def test_a_missing_or_malformed_csrf_token_is_refused(
    codec: SessionCodec, token: str | None
) -> None:
    assert not codec.csrf_valid(codec.new(signed_in=True, now=NOW), token)


def test_no_session_means_no_valid_csrf_token(codec: SessionCodec) -> None:
    session = codec.new(signed_in=True, now=NOW)
    assert not codec.csrf_valid(None, codec.csrf_token(session))


def test_the_csrf_token_differs_from_the_cookie_signature(codec: SessionCodec) -> None:
    session = codec.new(signed_in=True, now=NOW)
    assert codec.csrf_token(session) not in codec.encode(session)


def test_token_comparison() -> None:
    assert tokens_match(TOKEN, TOKEN)
    assert not tokens_match(TOKEN[:-1], TOKEN)
    assert not tokens_match("", TOKEN)
    assert not tokens_match("\udcff", TOKEN)  # unencodable input is just wrong
