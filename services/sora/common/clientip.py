"""Who is the client, and how we may write it down.

The client address is taken from ``X-Forwarded-For``/``X-Real-IP`` only when
the TCP peer is a configured trusted proxy; otherwise anyone could claim any
address. The address itself is never stored or logged: only its
HMAC-SHA256 under ``IP_SALT``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# Clients come back: parsing and hashing the same address again showed up in
# per-request profiles, so both are memoised (bounded) per process.
@functools.lru_cache(maxsize=4096)
def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    parsed = _parse(address)
    return parsed is not None and any(parsed in network for network in proxies)


def client_address(
    peer: str, forwarded_for: str | None, real_ip: str | None, proxies: Sequence[Network]
) -> str:
    """The first untrusted hop, walking X-Forwarded-For from the right."""
    if not _trusted(peer, proxies):
        return peer
    if forwarded_for:
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if _parse(hop) is None:
                break
            if not _trusted(hop, proxies):
                return hop
        if hops and _parse(hops[0]) is not None:
            return hops[0]
    if real_ip and _parse(real_ip) is not None:
        return real_ip.strip()
    return peer


@functools.lru_cache(maxsize=4096)
def hash_address(address: str, salt: bytes) -> str:
    return hmac.new(salt, address.encode(), hashlib.sha256).hexdigest()
