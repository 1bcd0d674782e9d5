"""``spec.fileServer.autoscaling`` as typed, frozen values, with the environment's defaults.

The models (api/v1alpha1.py) read the section; the CRD refuses the shapes it can
check (bounds, min > max, a cron that is not five fields); what it cannot (a cron
field out of range, an unknown time zone) is refused here with the same kind of
message. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from sora_operator.api import v1alpha1 as api

DEFAULT_CPU_UTILIZATION: Final = 70
DEFAULT_MEMORY_UTILIZATION: Final = 80
DEFAULT_STABILIZATION_SECONDS: Final = 300
DEFAULT_RPS_METRIC: Final = "sora_http_requests_per_second"
#: The seed's 1,000 ALB requests per target per minute, per second.
DEFAULT_RPS_PER_POD: Final = "16"
DEFAULT_TIME_ZONE: Final = "UTC"


#: Either component's ``autoscaling`` (they differ only in defaults and descriptions).
AutoscalingSection = api.FileServerAutoscaling | api.FeedbackApiAutoscaling


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
    section: AutoscalingSection,
    default_min: int,
    default_max: int,
    default_windows: tuple[ScalingWindow, ...] = (),
) -> Autoscaling:
    """The section with defaults applied; raises AutoscalingError with the field and why."""
    # A bound you set moves the other's default out of its way (maxReplicas: 1 in prod
    # means 1 to 1, not a refusal); only two explicit bounds can contradict each other.
    given_min, given_max = section.min_replicas, section.max_replicas
    minimum = given_min if given_min is not None else default_min
    if given_min is None and given_max is not None:
        minimum = min(default_min, given_max)
    maximum = given_max if given_max is not None else max(default_max, minimum)
    _check_bounds("fileServer.autoscaling", minimum, maximum)
    metrics, behavior = section.metrics, section.behavior
    rps = metrics.requests_per_second
    autoscaling = Autoscaling(
        enabled=section.enabled,
        min_replicas=minimum,
        max_replicas=maximum,
        cpu_utilization=_target(metrics.cpu_utilization, DEFAULT_CPU_UTILIZATION),
        memory_utilization=_target(metrics.memory_utilization, DEFAULT_MEMORY_UTILIZATION),
        requests_per_second=RequestsPerSecond(
            enabled=bool(rps.enabled),
            metric_name=rps.metric_name or DEFAULT_RPS_METRIC,
            target_per_pod=str(
                DEFAULT_RPS_PER_POD if rps.target_per_pod is None else rps.target_per_pod
            ),
        ),
        scale_up_stabilization_seconds=_stabilization(behavior.scale_up),
        scale_down_stabilization_seconds=_stabilization(behavior.scale_down),
        # Not set: the environment's windows; an empty list: none.
        windows=(
            default_windows
            if section.schedules is None
            else tuple(_window(item) for item in section.schedules)
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


def _target(value: int | None, default: int) -> int | None:
    """A utilisation target in percent; 0 turns the metric off."""
    return (default if value is None else value) or None


def _stabilization(direction: api.ScalingDirection) -> int:
    seconds = direction.stabilization_window_seconds
    return DEFAULT_STABILIZATION_SECONDS if seconds is None else seconds


def _check_bounds(where: str, minimum: int, maximum: int) -> None:
    if maximum < 1:
        raise AutoscalingError(f"{where}.maxReplicas must be at least 1")
    if minimum < 1:
        raise AutoscalingError(f"{where}.minReplicas must be at least 1")
    if minimum > maximum:
        raise AutoscalingError(
            f"{where}: minReplicas ({minimum}) is more than maxReplicas ({maximum})"
        )


def _window(item: api.FileServerSchedule | api.FeedbackApiSchedule) -> ScalingWindow:
    where = f"fileServer.autoscaling.schedules[{item.name}]"
    if not croniter.is_valid(item.cron):
        raise AutoscalingError(f"{where}.cron: {item.cron!r} is not a valid cron expression")
    time_zone = DEFAULT_TIME_ZONE if item.time_zone is None else item.time_zone
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AutoscalingError(
            f"{where}.timeZone: {time_zone!r} is not a known time zone"
        ) from None
    _check_bounds(where, item.min_replicas, item.max_replicas)
    return ScalingWindow(item.name, item.cron, item.min_replicas, item.max_replicas, time_zone)
