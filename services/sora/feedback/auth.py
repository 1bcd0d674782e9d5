"""The admin bearer token: one check, shared by the admin endpoints and the rate limit.

Admin endpoints refuse a request without it (``resources.admin_only``); the rate
limit lets a request with it through uncounted (``ratelimit.RateLimitMiddleware``).
"""

from __future__ import annotations

import hashlib
import hmac


class AdminGuard:
    """Checks ``Authorization: Bearer <ADMIN_TOKEN>`` in constant time."""

    def __init__(self, token: str) -> None:
        self._digest = _digest(token)

    def allows(self, authorization: str | None) -> bool:
        scheme, _, credentials = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return False
        return hmac.compare_digest(_digest(credentials.strip()), self._digest)


def _digest(secret: str) -> bytes:
    # Hashing first makes the comparison constant-time whatever the lengths.
    return hashlib.sha256(secret.encode("utf-8", "replace")).digest()
