"""``spec.fileServer.autoscaling`` as typed, frozen values, with the environment's defaults.

The CRD refuses the shapes it can check (bounds, min > max, a cron that is not
five fields); what it cannot (a cron field out of range, an unknown time zone)
is refused here with the same kind of message. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

DEFAULT_CPU_UTILIZATION: Final = 70
DEFAULT_MEMORY_UTILIZATION: Final = 80
DEFAULT_STABILIZATION_SECONDS: Final = 300
DEFAULT_RPS_METRIC: Final = "sora_http_requests_per_second"
#: The seed's 1,000 ALB requests per target per minute, per second.
DEFAULT_RPS_PER_POD: Final = "16"
DEFAULT_TIME_ZONE: Final = "UTC"


class AutoscalingError(ValueError):
    """The autoscaling section passed the CRD but cannot be realised."""


@dataclass(frozen=True)
class ScalingWindow:
    """Bounds that apply from each time ``cron`` fires (in ``time_zone``) until another fires."""

    name: str
    cron: str
    min_replicas: int
    max_replicas: int
    time_zone: str = DEFAULT_TIME_ZONE


@dataclass(frozen=True)
class RequestsPerSecond:
    """A Pods metric served by a custom metrics adapter (Prometheus adapter); off by default."""

    enabled: bool = False
    metric_name: str = DEFAULT_RPS_METRIC
    target_per_pod: str = DEFAULT_RPS_PER_POD


#: The seed's scheduled actions for prod: 1-5 file servers from 22:00 UTC on weekdays, 2-10
#: again from 06:00 UTC every day. The defaults of prod when ``schedules`` is not set.
PROD_WINDOWS: Final = (
    ScalingWindow("night", "0 22 * * 1-5", 1, 5),
    ScalingWindow("day", "0 6 * * *", 2, 10),
)


@dataclass(frozen=True)
class Autoscaling:
    #: On unless turned off: the seed autoscales the file server in every environment.
    enabled: bool = True
    min_replicas: int = 1
    max_replicas: int = 3
    cpu_utilization: int | None = DEFAULT_CPU_UTILIZATION
    memory_utilization: int | None = DEFAULT_MEMORY_UTILIZATION
    requests_per_second: RequestsPerSecond = RequestsPerSecond()
    scale_up_stabilization_seconds: int = DEFAULT_STABILIZATION_SECONDS
    scale_down_stabilization_seconds: int = DEFAULT_STABILIZATION_SECONDS
    windows: tuple[ScalingWindow, ...] = ()


def parse_autoscaling(
    section: Mapping[str, Any],
    default_min: int,
    default_max: int,
    default_windows: tuple[ScalingWindow, ...] = (),
) -> Autoscaling:
    """The section with defaults applied; raises AutoscalingError with the field and why."""
    # A bound you set moves the other's default out of its way (maxReplicas: 1 in prod
    # means 1 to 1, not a refusal); only two explicit bounds can contradict each other.
    given_min, given_max = section.get("minReplicas"), section.get("maxReplicas")
    minimum = int(given_min) if given_min is not None else default_min
    if given_min is None and given_max is not None:
        minimum = min(default_min, int(given_max))
    maximum = int(given_max) if given_max is not None else max(default_max, minimum)
    _check_bounds("fileServer.autoscaling", minimum, maximum)
    metrics = section.get("metrics") or {}
    behavior = section.get("behavior") or {}
    rps = metrics.get("requestsPerSecond") or {}
    autoscaling = Autoscaling(
        enabled=bool(section.get("enabled", True)),
        min_replicas=minimum,
        max_replicas=maximum,
        cpu_utilization=_target(metrics, "cpuUtilization", DEFAULT_CPU_UTILIZATION),
        memory_utilization=_target(metrics, "memoryUtilization", DEFAULT_MEMORY_UTILIZATION),
        requests_per_second=RequestsPerSecond(
            enabled=bool(rps.get("enabled", False)),
            metric_name=str(rps.get("metricName", DEFAULT_RPS_METRIC)),
            target_per_pod=str(rps.get("targetPerPod", DEFAULT_RPS_PER_POD)),
        ),
        scale_up_stabilization_seconds=_stabilization(behavior, "scaleUp"),
        scale_down_stabilization_seconds=_stabilization(behavior, "scaleDown"),
        # Not set: the environment's windows; an empty list: none.
        windows=(
            default_windows
            if section.get("schedules") is None
            else tuple(_window(item) for item in section["schedules"])
        ),
    )
    if autoscaling.enabled and not (
        autoscaling.cpu_utilization
        or autoscaling.memory_utilization
        or autoscaling.requests_per_second.enabled
    ):
        raise AutoscalingError(
            "fileServer.autoscaling needs at least one metric: cpuUtilization, "
            "memoryUtilization or requestsPerSecond"
        )
    return autoscaling


def _target(metrics: Mapping[str, Any], key: str, default: int) -> int | None:
    """A utilisation target in percent; 0 turns the metric off."""
    value = int(metrics.get(key, default))
    return value or None


def _stabilization(behavior: Mapping[str, Any], direction: str) -> int:
    section = behavior.get(direction) or {}
    return int(section.get("stabilizationWindowSeconds", DEFAULT_STABILIZATION_SECONDS))


def _check_bounds(where: str, minimum: int, maximum: int) -> None:
    if maximum < 1:
        raise AutoscalingError(f"{where}.maxReplicas must be at least 1")
    if minimum < 1:
        raise AutoscalingError(f"{where}.minReplicas must be at least 1")
    if minimum > maximum:
        raise AutoscalingError(
            f"{where}: minReplicas ({minimum}) is more than maxReplicas ({maximum})"
        )


def _window(item: Mapping[str, Any]) -> ScalingWindow:
    name = str(item.get("name", ""))
    where = f"fileServer.autoscaling.schedules[{name}]"
    cron = str(item.get("cron", ""))
    if not croniter.is_valid(cron):
        raise AutoscalingError(f"{where}.cron: {cron!r} is not a valid cron expression")
    time_zone = str(item.get("timeZone", DEFAULT_TIME_ZONE))
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AutoscalingError(
            f"{where}.timeZone: {time_zone!r} is not a known time zone"
        ) from None
    minimum, maximum = int(item.get("minReplicas", 1)), int(item.get("maxReplicas", 0))
    _check_bounds(where, minimum, maximum)
    return ScalingWindow(name, cron, minimum, maximum, time_zone)
