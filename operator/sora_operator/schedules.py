"""Which scaling window is in force at a given instant (pure; the clock is an argument).

The window in force is the one whose cron fired most recently, each cron read
in its own time zone (so ``0 6 * * *`` in Europe/Paris follows daylight saving).
Nothing is remembered: an operator that restarts derives the same window from
the same clock. Two windows firing at the same instant: the later in the list wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, croniter

from sora_operator.autoscaling import Autoscaling, ScalingWindow


@dataclass(frozen=True)
class Bounds:
    """The HPA's bounds now, and the window they come from (None: the base bounds)."""

    min_replicas: int
    max_replicas: int
    window: ScalingWindow | None = None
    since: datetime | None = None


def last_fired(window: ScalingWindow, now: datetime) -> datetime | None:
    """When ``window``'s cron last fired at or before ``now`` (UTC), or None if never."""
    zone = ZoneInfo(window.time_zone)
    # croniter's get_prev is strictly before its start: start one second after now.
    start = now.astimezone(zone).replace(microsecond=0) + timedelta(seconds=1)
    try:
        fired: datetime = croniter(window.cron, start).get_prev(datetime)
    except CroniterBadDateError:  # a date that never comes (30 February)
        return None
    return fired.astimezone(UTC)


def active_window(
    windows: Sequence[ScalingWindow], now: datetime
) -> tuple[ScalingWindow, datetime] | None:
    """The window that fired last, with when it fired; None without windows."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    best: tuple[ScalingWindow, datetime] | None = None
    for window in windows:
        fired = last_fired(window, now)
        if fired is not None and (best is None or fired >= best[1]):
            best = (window, fired)
    return best


def bounds(autoscaling: Autoscaling, now: datetime) -> Bounds:
    """The min and max replicas the HPA should have at ``now``."""
    found = active_window(autoscaling.windows, now)
    if found is None:
        return Bounds(autoscaling.min_replicas, autoscaling.max_replicas)
    window, fired = found
    return Bounds(window.min_replicas, window.max_replicas, window, fired)


def status(autoscaling: Autoscaling, current: Bounds) -> dict[str, Any] | None:
    """``status.autoscaling``: None (removed) while autoscaling is off."""
    if not autoscaling.enabled:
        return None
    found: dict[str, Any] = {
        "minReplicas": current.min_replicas,
        "maxReplicas": current.max_replicas,
        "activeWindow": current.window.name if current.window else "",
    }
    if current.since is not None:
        found["windowSince"] = current.since.strftime("%Y-%m-%dT%H:%M:%SZ")
    return found


def window_change_message(
    previous: Mapping[str, Any] | None, current: Mapping[str, Any] | None
) -> str | None:
    """The Event text when the active window changed between two statuses, else None."""
    if not current or not current.get("activeWindow"):
        return None
    if previous and previous.get("activeWindow") == current.get("activeWindow"):
        return None
    return (
        f"Scaling window {current['activeWindow']} is active: "
        f"{current['minReplicas']} to {current['maxReplicas']} file server replicas"
    )
