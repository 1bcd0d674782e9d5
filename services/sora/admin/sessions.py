"""Signed session cookies and the CSRF tokens bound to them. Pure: no HTTP, no clock.

A cookie is ``<id>.<signed-in 0|1>.<issued>.<expires>.<signature>``, the
signature being HMAC-SHA256 over the rest under a key derived from
``SESSION_SECRET`` *and* ``ADMIN_TOKEN``: rotating either secret signs everyone
out. Nothing secret is stored in the cookie, so it need not be encrypted.

Every visitor gets a session, first an anonymous one (so that the sign-in form
itself carries a CSRF token); signing in replaces it with a new one (new id,
so a planted cookie cannot be promoted), signing out drops it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final

COOKIE_NAME: Final = "sora_admin_session"
COOKIE_PATH: Final = "/admin"
# The sign-in form's anonymous session only has to outlive someone finding their token.
ANONYMOUS_LIFETIME_SECONDS: Final = 3600
_ID: Final = re.compile(r"[A-Za-z0-9_-]{22,64}")
_NUMBER: Final = re.compile(r"[0-9]{1,12}")
_SIGNATURE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_COOKIE_LENGTH: Final = 256


@dataclass(frozen=True)
class Session:
    id: str
    signed_in: bool
    issued_at: int  # Unix seconds
    expires_at: int

    def active(self, now: float) -> bool:
        return self.issued_at - 60 <= now < self.expires_at

    def remaining(self, now: float) -> int:
        """Seconds left, for the cookie's Max-Age."""
        return max(0, int(self.expires_at - now))


class SessionCodec:
    """Issues, signs and checks sessions and their CSRF tokens."""

    def __init__(self, session_secret: str, admin_token: str, lifetime_seconds: int) -> None:
        token_digest = hashlib.sha256(admin_token.encode()).digest()
        self._key = hmac.new(
            session_secret.encode(), b"sora-admin-session\x00" + token_digest, hashlib.sha256
        ).digest()
        self._lifetime = lifetime_seconds

    def new(self, *, signed_in: bool, now: float) -> Session:
        lifetime = self._lifetime if signed_in else ANONYMOUS_LIFETIME_SECONDS
        issued = int(now)
        return Session(secrets.token_urlsafe(18), signed_in, issued, issued + lifetime)

    def encode(self, session: Session) -> str:
        payload = f"{session.id}.{int(session.signed_in)}.{session.issued_at}.{session.expires_at}"
        return f"{payload}.{self._sign(b'cookie', payload)}"

    def decode(self, value: str | None) -> Session | None:
        """The session a cookie holds if its signature is ours (expired or not), else None."""
        if not value or len(value) > _MAX_COOKIE_LENGTH:
            return None
        parts = value.split(".")
        if len(parts) != 5:
            return None
        session_id, signed_in, issued, expires, signature = parts
        if not (
            _ID.fullmatch(session_id)
            and signed_in in ("0", "1")
            and _NUMBER.fullmatch(issued)
            and _NUMBER.fullmatch(expires)
            and _SIGNATURE.fullmatch(signature)
        ):
            return None
        payload = value.rpartition(".")[0]
        if not hmac.compare_digest(signature, self._sign(b"cookie", payload)):
            return None
        return Session(session_id, signed_in == "1", int(issued), int(expires))

    def csrf_token(self, session: Session) -> str:
        return self._sign(b"csrf", session.id)

    def csrf_valid(self, session: Session | None, token: str | None) -> bool:
        if session is None or not token:
            return False
        return hmac.compare_digest(token.encode(), self.csrf_token(session).encode())

    def _sign(self, purpose: bytes, text: str) -> str:
        digest = hmac.new(self._key, purpose + b"\x00" + text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def tokens_match(entered: str, expected: str) -> bool:
    """Constant-time comparison whatever the lengths (both sides hashed first)."""
    return hmac.compare_digest(
        hashlib.sha256(entered.encode("utf-8", "replace")).digest(),
        hashlib.sha256(expected.encode("utf-8", "replace")).digest(),
    )
