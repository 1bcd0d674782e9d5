"""``status.replication``: the Litestream sidecar's lag, as the operator last read it.

``observe_replication`` reads the sidecar's metrics (the ``replication`` port of the
running feedback API pod); ``replication_status`` (pure) turns that reading, or the
failure to get one, into the status entry. A reading ages: the lag reported is the
measured lag plus the measurement's age, so a sidecar that stops answering shows a
growing lag (and the ``SoraReplicationLagging`` alert fires) instead of its last
good value for ever.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from sora_contract import layout
from sora_operator.builders import labels
from sora_operator.clock import parse_time

Scrape = Callable[[str], str]  # URL -> the metrics page (raises OSError when unreachable)


def scrape_over_http(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a pod IP, http
        text: str = response.read().decode()
        return text


@dataclass(frozen=True)
class Reading:
    """One look at the sidecar: its gauges, or why there are none."""

    pod: str | None
    gauges: Mapping[str, float]
    error: str = ""


def gauges_of(text: str) -> dict[str, float]:
    return {
        sample.name.removeprefix("sora_replication_"): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("sora_replication_")
    }


def observe_replication(pods: Sequence[Mapping[str, Any]], scrape: Scrape) -> Reading:
    """Read the sidecar of the running feedback API pod."""
    running = [
        pod
        for pod in pods
        if (pod.get("metadata", {}).get("labels") or {}).get(labels.COMPONENT) == "feedback-api"
        and (pod.get("status") or {}).get("phase") == "Running"
        and (pod.get("status") or {}).get("podIP")
    ]
    if not running:
        return Reading(None, {}, "no running feedback API pod")
    pod = running[0]
    name = str(pod["metadata"]["name"])
    url = f"http://{pod['status']['podIP']}:{layout.REPLICATION_METRICS_PORT}/metrics"
    try:
        return Reading(name, gauges_of(scrape(url)))
    except (OSError, ValueError) as error:
        return Reading(name, {}, f"sidecar not reachable: {error}")


def replication_status(
    reading: Reading, previous: Mapping[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """The status entry: lagSeconds grows with the age of the newest measurement."""
    probed = reading.gauges.get("last_probe_timestamp_seconds")
    if probed:
        measured_at = datetime.fromtimestamp(probed, UTC)
        lag = reading.gauges.get("lag_seconds", 0.0)
        replica_txid: object = int(reading.gauges.get("replica_txid", 0))
        message = reading.error
    else:
        previous = previous or {}
        measured_at_or_none = parse_time(previous.get("measuredAt"))
        message = reading.error or "the sidecar has not measured the lag yet"
        if measured_at_or_none is None:
            return {"pod": reading.pod, "message": message}
        measured_at = measured_at_or_none
        lag = float(previous.get("measuredLagSeconds", 0.0))
        replica_txid = previous.get("replicaTxid")
    age = max(0.0, (now - measured_at).total_seconds())
    return {
        "pod": reading.pod,
        "lagSeconds": round(lag + age, 1),
        "measuredLagSeconds": round(lag, 3),
        "measuredAt": measured_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "replicaTxid": replica_txid,
        "message": message,
    }
