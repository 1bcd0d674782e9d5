"""Backup facts of every SoraDeployment as Prometheus gauges."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily

from sora_operator import conditions
from sora_operator.backups.health import CONDITION, DISABLED_REASON
from sora_operator.clock import parse_time


def _always_leading() -> bool:
    return True


@dataclass(eq=False)  # a collector: registries key on its identity
class BackupTracker:
    """Backup facts of every SoraDeployment, exported as gauges labelled with its name.

    A collector: each scrape reads the facts the last reconciles recorded. Only the
    leading replica reconciles, so a standby exports no series at all (``leading``)
    rather than stale facts from before it lost the Lease. One series per
    SoraDeployment per gauge: the label values are bounded by the objects in the
    cluster, as kube-state-metrics' are.
    """

    leading: Callable[[], bool] = _always_leading
    _facts: dict[tuple[str, str], tuple[float | None, float | None, bool]] = field(
        default_factory=dict
    )
    _lags: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: tuple[str, str], status: Mapping[str, Any]) -> None:
        entry = status.get("lastBackup") or {}
        success = parse_time(entry.get("lastSuccessTime"))
        failure = parse_time(entry.get("lastFailureTime"))
        condition = conditions.find(status.get("conditions"), CONDITION)
        # Switched off by choice: a Warning condition and Event, not a page every night.
        if condition is not None and condition.get("reason") == DISABLED_REASON:
            condition = None
        healthy = None if condition is None else condition.get("status") != "False"
        lag = (status.get("replication") or {}).get("lagSeconds")
        with self._lock:
            if lag is None:
                self._lags.pop(key, None)
            else:
                self._lags[key] = float(lag)
            if not entry and healthy is None:
                self._facts.pop(key, None)  # backups off, nothing ever ran
                return
            self._facts[key] = (
                success.timestamp() if success else None,
                failure.timestamp() if failure else None,
                healthy is not False,
            )

    def forget(self, key: tuple[str, str]) -> None:
        """The SoraDeployment is gone: its series go too."""
        with self._lock:
            self._facts.pop(key, None)
            self._lags.pop(key, None)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        label_names = ["soradeployment_namespace", "soradeployment"]
        age = GaugeMetricFamily(
            "sora_operator_backup_newest_verified_age_seconds",
            "Age of the newest verified backup of a SoraDeployment.",
            labels=label_names,
        )
        failure = GaugeMetricFamily(
            "sora_operator_backup_last_failure_timestamp_seconds",
            "When the most recent failed backup of a SoraDeployment finished (Unix time).",
            labels=label_names,
        )
        healthy = GaugeMetricFamily(
            "sora_operator_backup_healthy",
            "1 while the BackupHealthy condition of a SoraDeployment is True, else 0.",
            labels=label_names,
        )
        lagging = GaugeMetricFamily(
            "sora_operator_replication_lag_seconds",
            "How far the continuous replica of a SoraDeployment is behind (status.replication).",
            labels=label_names,
        )
        if self.leading():
            now = time.time()
            with self._lock:
                facts = sorted(self._facts.items())
                lags = sorted(self._lags.items())
            for (namespace, name), lag in lags:
                lagging.add_metric([namespace, name], lag)
            for (namespace, name), (success, failed, is_healthy) in facts:
                labels = [namespace, name]
                if success is not None:
                    age.add_metric(labels, now - success)
                if failed is not None:
                    failure.add_metric(labels, failed)
                healthy.add_metric(labels, 1.0 if is_healthy else 0.0)
        yield from (age, failure, healthy, lagging)

    def register(self, registry: CollectorRegistry) -> None:
        registry.register(self)
