"""Rate limiting per salted client address: token buckets shared by all gunicorn workers.

The buckets live in an anonymous shared memory map created before gunicorn
forks, so every worker sees the same counts (a client cannot multiply its
allowance by the number of workers). The table is a fixed-size open-addressing
hash: ``slots`` entries of (key, tokens, last update), probed over a short
window; when the window is full the least recently used entry is reused, which
at worst gives an idle client a fresh bucket. Time is ``CLOCK_MONOTONIC``,
which all processes on a host share.
"""

from __future__ import annotations

import hashlib
import math
import mmap
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import falcon

from sora.common.web import ApiError
from sora.feedback import telemetry
from sora.feedback.auth import AdminGuard
from sora.feedback.interprocess import ProcessLock

_SLOT: Final = struct.Struct("<16sdd")  # key, tokens, updated (monotonic seconds)
_EMPTY: Final = bytes(16)
_PROBES: Final = 8


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
    """A fixed-size table of token buckets in memory shared across forked workers."""

    def __init__(self, slots: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._slots = slots
        self._memory = mmap.mmap(-1, slots * _SLOT.size)
        self._lock = ProcessLock()
        self._clock = clock

    def take(self, limit: Limit, client: str) -> Decision:
        key = hashlib.blake2b(f"{limit.name}\0{client}".encode(), digest_size=16).digest()
        now = self._clock()
        with self._lock:
            offset, tokens, updated = self._slot(key, now, limit)
            decision, left = spend(refill(tokens, updated, now, limit), limit)
            _SLOT.pack_into(self._memory, offset, key, left, now)
        return decision

    def _slot(self, key: bytes, now: float, limit: Limit) -> tuple[int, float, float]:
        """The slot holding ``key`` (or the one to give it) with its tokens and update time."""
        start = int.from_bytes(key[:8], "little") % self._slots
        victim, oldest = start * _SLOT.size, math.inf
        for probe in range(_PROBES):
            offset = (start + probe) % self._slots * _SLOT.size
            found, tokens, updated = _SLOT.unpack_from(self._memory, offset)
            if found == key:
                return offset, tokens, updated
            if found == _EMPTY:
                return offset, float(limit.burst), now
            if updated < oldest:
                victim, oldest = offset, updated
        return victim, float(limit.burst), now

    def close(self) -> None:
        self._memory.close()
        self._lock.close()


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
