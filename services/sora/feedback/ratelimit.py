"""Rate limiting per salted client address: token buckets in the server's memory.

The feedback API runs one gunicorn worker (one writer per database file), so
one table in that process sees every request: a lock around a dict is all the
sharing there is. The table remembers the ``slots`` clients seen most recently;
beyond that the least recently seen is forgotten, which at worst gives an idle
client a fresh bucket.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import falcon

from sora.common.web import ApiError
from sora.feedback import telemetry
from sora.feedback.auth import AdminGuard


@dataclass(frozen=True)
class Limit:
    name: str
    per_second: float
    burst: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds until one token is available; 0 when allowed


def refill(tokens: float, updated: float, now: float, limit: Limit) -> float:
    return min(float(limit.burst), tokens + max(0.0, now - updated) * limit.per_second)


def spend(tokens: float, limit: Limit) -> tuple[Decision, float]:
    """Take one token if there is one; otherwise say how long until there will be."""
    if tokens >= 1.0:
        return Decision(True, 0.0), tokens - 1.0
    return Decision(False, (1.0 - tokens) / limit.per_second), tokens


def retry_after_header(decision: Decision) -> str:
    return str(max(1, math.ceil(decision.retry_after)))


class TokenBuckets:
    """The buckets of the ``slots`` most recently seen (limit, client) pairs."""

    def __init__(self, slots: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._slots = slots
        self._clock = clock
        self._lock = threading.Lock()
        # digest of (limit, client) -> (tokens, last update), least recently used first.
        self._buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()

    def take(self, limit: Limit, client: str) -> Decision:
        # A 16-byte digest rather than the 64-character client hash: a third of the memory.
        key = hashlib.blake2b(f"{limit.name}\0{client}".encode(), digest_size=16).digest()
        with self._lock:
            now = self._clock()
            tokens, updated = self._buckets.pop(key, (float(limit.burst), now))
            decision, left = spend(refill(tokens, updated, now, limit), limit)
            self._buckets[key] = (left, now)
            if len(self._buckets) > self._slots:
                self._buckets.popitem(last=False)
        return decision

    def __len__(self) -> int:
        return len(self._buckets)


class RateLimitMiddleware:
    """Applies the limit a resource names for the method (``resource.rate_limits``).

    A request carrying the valid admin bearer token (``admin``) is not counted: the admin
    panel calls from one address for all its moderators, server to server, and must not
    share one client's allowance. Whoever holds the token can already do anything the API
    offers. A request with a wrong token is counted like any other, so guessing the token
    is rate limited too.
    """

    def __init__(
        self,
        buckets: TokenBuckets,
        limits: Mapping[str, Limit],
        *,
        admin: AdminGuard | None = None,
    ) -> None:
        self._buckets = buckets
        self._limits = limits
        self._admin = admin

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        name = getattr(resource, "rate_limits", {}).get(req.method)
        limit = self._limits.get(name) if name else None
        if limit is None or self._exempt(req):
            return
        decision = self._buckets.take(limit, req.context.client_hash)
        if not decision.allowed:
            telemetry.RATE_LIMITED.labels(limit.name).inc()
            seconds = retry_after_header(decision)
            raise ApiError(
                429,
                "Too many requests",
                headers={"Retry-After": seconds},
                retry_after=int(seconds),
            )

    def _exempt(self, req: falcon.Request) -> bool:
        return self._admin is not None and self._admin.allows(req.get_header("Authorization"))
