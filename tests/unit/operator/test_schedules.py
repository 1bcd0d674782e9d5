"""Which scaling window is in force: time zones, daylight saving, several windows, a clock
the test controls (schedules.py is pure: every function takes ``now``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sora_operator.autoscaling import Autoscaling, ScalingWindow
from sora_operator.clock import parse_time
from sora_operator.schedules import (
    Bounds,
    active_window,
    bounds,
    last_fired,
    status,
    window_change_message,
)

EVENING = ScalingWindow("evening", "0 22 * * *", 1, 5)
MORNING = ScalingWindow("morning", "0 6 * * *", 2, 10)
SEED = (EVENING, MORNING)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def name_at(windows: tuple[ScalingWindow, ...], now: datetime) -> str | None:
    found = active_window(windows, now)
    return found[0].name if found else None


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 1, 15, 12, 0), "morning"),
        (utc(2026, 1, 15, 21, 59, 59), "morning"),
        (utc(2026, 1, 15, 22, 0), "evening"),
        (utc(2026, 1, 16, 3, 0), "evening"),
        (utc(2026, 1, 16, 5, 59, 59), "evening"),
        (utc(2026, 1, 16, 6, 0), "morning"),
    ],
)
def test_the_seed_windows_switch_at_22_00_and_06_00_utc(now: datetime, expected: str) -> None:
    assert name_at(SEED, now) == expected


def test_a_window_is_in_force_from_the_very_second_its_cron_fires() -> None:
    assert last_fired(MORNING, utc(2026, 1, 16, 6, 0)) == utc(2026, 1, 16, 6, 0)
    assert last_fired(MORNING, utc(2026, 1, 16, 6, 0, 0) - timedelta(microseconds=1)) == utc(
        2026, 1, 15, 6, 0
    )


def test_the_order_of_the_windows_does_not_matter() -> None:
    now = utc(2026, 1, 16, 3, 0)
    assert name_at((MORNING, EVENING), now) == name_at((EVENING, MORNING), now) == "evening"


def test_a_cron_is_read_in_its_time_zone() -> None:
    tokyo_morning = ScalingWindow("morning", "0 6 * * *", 2, 10, "Asia/Tokyo")
    tokyo_evening = ScalingWindow("evening", "0 22 * * *", 1, 5, "Asia/Tokyo")
    windows = (tokyo_evening, tokyo_morning)
    # 06:00 in Tokyo is 21:00 UTC the day before.
    assert name_at(windows, utc(2026, 1, 15, 20, 59)) == "evening"
    assert name_at(windows, utc(2026, 1, 15, 21, 0)) == "morning"
    assert last_fired(tokyo_morning, utc(2026, 1, 15, 21, 0)) == utc(2026, 1, 15, 21, 0)


def test_daylight_saving_moves_the_utc_time_a_window_starts() -> None:
    paris = ScalingWindow("morning", "0 6 * * *", 2, 10, "Europe/Paris")
    # Winter: UTC+1, so 05:00 UTC; summer: UTC+2, so 04:00 UTC.
    assert last_fired(paris, utc(2026, 1, 15, 12, 0)) == utc(2026, 1, 15, 5, 0)
    assert last_fired(paris, utc(2026, 7, 15, 12, 0)) == utc(2026, 7, 15, 4, 0)
    # The day clocks go forward (29 March 2026) and back (25 October 2026).
    assert last_fired(paris, utc(2026, 3, 29, 12, 0)) == utc(2026, 3, 29, 4, 0)
    assert last_fired(paris, utc(2026, 10, 25, 12, 0)) == utc(2026, 10, 25, 5, 0)


def test_a_window_in_the_hour_that_does_not_exist_still_fires_once() -> None:
    # 02:30 does not exist in Paris on 29 March 2026 (02:00 jumps to 03:00).
    night = ScalingWindow("night", "30 2 * * *", 1, 2, "Europe/Paris")
    fired = last_fired(night, utc(2026, 3, 29, 12, 0))
    assert fired is not None
    assert utc(2026, 3, 29, 0, 0) <= fired <= utc(2026, 3, 29, 2, 0)
    assert last_fired(night, utc(2026, 3, 30, 12, 0)) == utc(2026, 3, 30, 0, 30)


def test_the_repeated_hour_of_autumn_keeps_the_window_until_the_next_one() -> None:
    night = ScalingWindow("night", "30 2 * * *", 1, 2, "Europe/Paris")
    day = ScalingWindow("day", "0 12 * * *", 2, 4, "Europe/Paris")
    # On 25 October 2026 02:30 happens twice in Paris (00:30 and 01:30 UTC).
    assert last_fired(night, utc(2026, 10, 25, 1, 45)) in {
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 1, 30),
    }
    assert name_at((night, day), utc(2026, 10, 25, 1, 45)) == "night"
    # Noon in Paris is 11:00 UTC once winter time applies.
    assert name_at((night, day), utc(2026, 10, 25, 10, 59)) == "night"
    assert name_at((night, day), utc(2026, 10, 25, 11, 0)) == "day"


def test_several_schedules_weekday_and_weekend() -> None:
    windows = (
        ScalingWindow("weekday", "0 8 * * 1-5", 3, 10),
        ScalingWindow("weekend", "0 0 * * 6", 1, 3),
        ScalingWindow("night", "0 20 * * 1-5", 2, 5),
    )
    assert name_at(windows, utc(2026, 1, 14, 9, 0)) == "weekday"  # Wednesday
    assert name_at(windows, utc(2026, 1, 14, 21, 0)) == "night"
    assert name_at(windows, utc(2026, 1, 17, 9, 0)) == "weekend"  # Saturday
    assert name_at(windows, utc(2026, 1, 18, 23, 0)) == "weekend"  # Sunday
    assert name_at(windows, utc(2026, 1, 19, 7, 59)) == "weekend"  # Monday before 08:00
    assert name_at(windows, utc(2026, 1, 19, 8, 0)) == "weekday"


def test_windows_firing_at_the_same_instant_resolve_to_the_later_one() -> None:
    first = ScalingWindow("first", "0 6 * * *", 1, 2)
    second = ScalingWindow("second", "0 6 * * *", 3, 4)
    assert name_at((first, second), utc(2026, 1, 15, 7, 0)) == "second"


def test_without_windows_the_base_bounds_apply() -> None:
    result = bounds(Autoscaling(enabled=True, min_replicas=2, max_replicas=7), utc(2026, 1, 1))
    assert result == Bounds(2, 7)
    assert active_window((), utc(2026, 1, 1)) is None


def test_the_window_in_force_replaces_the_base_bounds() -> None:
    scaling = Autoscaling(enabled=True, min_replicas=2, max_replicas=10, windows=SEED)
    night = bounds(scaling, utc(2026, 1, 15, 23, 0))
    assert (night.min_replicas, night.max_replicas, night.window) == (1, 5, EVENING)
    assert night.since == utc(2026, 1, 15, 22, 0)


def test_the_same_clock_gives_the_same_window_after_a_restart() -> None:
    scaling = Autoscaling(enabled=True, windows=SEED)
    now = utc(2026, 1, 15, 23, 17, 5)
    assert bounds(scaling, now) == bounds(scaling, now)


def test_a_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        active_window(SEED, datetime(2026, 1, 15, 12, 0))


def test_a_date_that_never_comes_never_fires() -> None:
    never = ScalingWindow("never", "0 0 30 2 *", 1, 2)
    assert last_fired(never, utc(2026, 1, 15)) is None
    assert name_at((never, MORNING), utc(2026, 1, 15, 12, 0)) == "morning"


def test_the_operator_clock_text_parses_to_an_aware_utc_time() -> None:
    assert parse_time("2026-01-15T22:00:00Z") == utc(2026, 1, 15, 22, 0)
    tokyo = parse_time("2026-01-16T07:00:00+09:00")
    assert tokyo is not None
    assert tokyo.tzinfo == UTC
    assert tokyo == datetime(2026, 1, 16, 7, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_a_missing_or_malformed_status_time_parses_to_none() -> None:
    assert [parse_time(v) for v in (None, "", "yesterday", 1767225600)] == [None] * 4
    assert parse_time("2026-01-15T22:00:00") == utc(2026, 1, 15, 22, 0)  # naive: UTC


def test_status_shows_the_active_window_and_its_bounds() -> None:
    scaling = Autoscaling(enabled=True, windows=SEED)
    assert status(scaling, bounds(scaling, utc(2026, 1, 15, 23, 0))) == {
        "activeWindow": "evening",
        "windowSince": "2026-01-15T22:00:00Z",
        "minReplicas": 1,
        "maxReplicas": 5,
    }
    assert status(Autoscaling(enabled=True), Bounds(1, 3)) == {
        "activeWindow": "",
        "minReplicas": 1,
        "maxReplicas": 3,
    }
    assert status(Autoscaling(enabled=False), Bounds(1, 3)) is None


def test_an_event_is_announced_only_when_the_window_changes() -> None:
    evening = {"activeWindow": "evening", "minReplicas": 1, "maxReplicas": 5}
    morning = {"activeWindow": "morning", "minReplicas": 2, "maxReplicas": 10}
    assert window_change_message(evening, evening) is None
    assert window_change_message(evening, morning) == (
        "Scaling window morning is active: 2 to 10 file server replicas"
    )
    assert window_change_message(None, evening) is not None
    assert window_change_message(evening, None) is None
    assert window_change_message(evening, {**evening, "activeWindow": ""}) is None
