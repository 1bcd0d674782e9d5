"""The operator's clock: UTC now, optionally shifted (a test hook).

``SORA_OPERATOR_CLOCK_OFFSET_SECONDS`` (a number, may be negative) moves the
operator's idea of now, so the integration tests can put the real process in a
given scaling window without waiting for it. It moves every time the operator
writes (status transition times too); leave it unset in production.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Final

OFFSET_VARIABLE: Final = "SORA_OPERATOR_CLOCK_OFFSET_SECONDS"


def offset(environ: dict[str, str] | None = None) -> timedelta:
    raw = (os.environ if environ is None else environ).get(OFFSET_VARIABLE, "").strip()
    if not raw:
        return timedelta(0)
    try:
        return timedelta(seconds=float(raw))
    except ValueError:
        raise ValueError(f"{OFFSET_VARIABLE} must be a number of seconds, not {raw!r}") from None


def now(shift: timedelta = timedelta(0)) -> datetime:
    return datetime.now(UTC) + shift


def parse_time(value: object) -> datetime | None:
    """A time as the status and the clock write it (RFC 3339, ``Z`` allowed) in UTC;
    None for anything else (a missing or malformed status field)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def text(moment: datetime) -> str:
    """RFC 3339 in UTC to the second, as the status stores times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
