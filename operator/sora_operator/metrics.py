"""Prometheus metrics of the operator, in a registry of its own.

Label values are bounded: triggers, results, verbs and kinds are fixed sets;
no SoraDeployment name or namespace ever becomes a label value.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

RECONCILE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class OperatorMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.reconciles = Counter(
            "sora_operator_reconciles",
            "Reconciles run, by what triggered them and how they ended.",
            ["trigger", "result"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "sora_operator_reconcile_duration_seconds",
            "Time one reconcile of one SoraDeployment took.",
            ["trigger"],
            buckets=RECONCILE_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "sora_operator_reconcile_errors",
            "Reconciles that failed, by kind of error.",
            ["error"],
            registry=self.registry,
        )
        self.api_writes = Counter(
            "sora_operator_api_writes",
            "Write requests sent to the API server (lease renewals excluded).",
            ["verb", "kind"],
            registry=self.registry,
        )
        self.api_requests = Counter(
            "sora_operator_api_requests",
            "Requests the reconciles send to the API server (kopf's watches and its own "
            "bookkeeping excluded), by verb: GET, LIST, PATCH, POST, PUT, DELETE.",
            ["verb"],
            registry=self.registry,
        )
        self.lease_writes = Counter(
            "sora_operator_lease_writes",
            "Writes of the leader-election Lease (acquire, renew, release).",
            registry=self.registry,
        )
        self.child_changes = Counter(
            "sora_operator_child_changes",
            "Children created, updated (drift or spec change) or deleted.",
            ["change", "kind"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "sora_operator_queue_depth",
            "SoraDeployments with a reconcile running or waiting to run.",
            registry=self.registry,
        )
        self.degraded = Gauge(
            "sora_operator_degraded_soradeployments",
            "SoraDeployments whose Degraded condition is True.",
            registry=self.registry,
        )
        self.leading = Gauge(
            "sora_operator_leader",
            "1 while this replica holds the leader Lease and may act, else 0.",
            registry=self.registry,
        )

    def record_write(self, verb: str, kind: str) -> None:
        self.api_writes.labels(verb=verb, kind=kind).inc()

    def record_request(self, verb: str) -> None:
        self.api_requests.labels(verb=verb).inc()

    @contextmanager
    def timed(self, trigger: str) -> Iterator[Callable[[str], None]]:
        """Times a reconcile; the block calls the yielded function with its result."""
        results: list[str] = []
        started = time.perf_counter()
        try:
            yield results.append
        except BaseException:
            results.append("error")
            raise
        finally:
            self.duration.labels(trigger=trigger).observe(time.perf_counter() - started)
            self.reconciles.labels(
                trigger=trigger, result=results[-1] if results else "skipped"
            ).inc()

    def track_leadership(self, is_leading: Callable[[], bool]) -> None:
        self.leading.set_function(lambda: 1.0 if is_leading() else 0.0)

    def track_queue(self, depth: Callable[[], int]) -> None:
        self.queue_depth.set_function(lambda: float(depth()))

    def track_degraded(self, count: Callable[[], int]) -> None:
        self.degraded.set_function(lambda: float(count()))

    def serve(self, port: int, address: str = "0.0.0.0") -> Any:  # noqa: S104 - scraped in-cluster
        """Serve /metrics on a background thread; returns the server (None when port is 0)."""
        if not port:
            return None
        server, _thread = start_http_server(port, addr=address, registry=self.registry)
        return server
