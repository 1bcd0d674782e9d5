"""Leader election: a restart, a crash or a freeze never leaves two operators acting at once."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import pytest
import requests

from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.operator.conftest import StartOperator
from tests.integration.operator.support import metrics_of, sora_deployment, wait_ready
from tests.plugins.kube import KubeCluster
from tests.support.polling import wait_for
from tests.support.processes import Service

NAME = "shop"


def _leading(service: Service) -> bool | None:
    """The replica's own view (its leader gauge), or None when it cannot answer."""
    if service.process.poll() is not None:
        return False
    try:
        return metrics_of(service).total("sora_operator_leader") == 1.0
    except requests.RequestException:
        return None


class LeaderWatch:
    """Samples every replica's leader gauge until stopped; remembers any overlap."""

    def __init__(self, replicas: list[Service]) -> None:
        self.replicas = replicas
        self.samples = 0
        self.overlaps: list[list[int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            leaders = [i for i, replica in enumerate(self.replicas) if _leading(replica)]
            self.samples += 1
            if len(leaders) > 1:
                self.overlaps.append(leaders)

    def __enter__(self) -> LeaderWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.fixture
def pair(start_operator: StartOperator, kube_namespace: str) -> list[Service]:
    first = start_operator(kube_namespace, identity="operator-a")
    wait_for(lambda: _leading(first), 30, "the first replica to lead")
    second = start_operator(kube_namespace, identity="operator-b")
    return [first, second]


def _signal(service: Service, sig: signal.Signals) -> None:
    """Signal without waiting for an exit (Service.kill waits)."""
    os.killpg(service.process.pid, sig)


def _reconciles(service: Service) -> float:
    return metrics_of(service).total("sora_operator_reconciles_total")


def test_only_one_of_two_replicas_leads(pair: list[Service]) -> None:
    first, second = pair
    with LeaderWatch(pair) as watch:
        wait_for(lambda: watch.samples >= 40, 30, "forty samples")
    assert (_leading(first), _leading(second)) == (True, False)
    assert watch.overlaps == []


def test_the_standby_does_no_work(
    kube_cluster: KubeCluster, admin: KubeClient, pair: list[Service], kube_namespace: str
) -> None:
    first, second = pair
    kube_cluster.apply(sora_deployment(NAME, kube_namespace, {"environment": "dev"}))
    wait_ready(admin, kube_namespace, NAME)
    assert _reconciles(first) > 0
    assert _reconciles(second) == 0


def test_the_standby_answers_its_liveness_probe(pair: list[Service]) -> None:
    standby = pair[1]
    assert requests.get(str(standby.extra["liveness"]), timeout=5).status_code == 200


def test_a_graceful_stop_hands_over_at_once_without_overlap(pair: list[Service]) -> None:
    first, second = pair
    with LeaderWatch(pair) as watch:
        first.stop()
        wait_for(lambda: _leading(second), 5, "the standby to lead after the release")
    assert first.process.returncode == 0
    assert watch.overlaps == []


def test_a_killed_leader_is_replaced_after_the_lease_expires_without_overlap(
    pair: list[Service],
) -> None:
    first, second = pair
    with LeaderWatch(pair) as watch:
        first.kill(signal.SIGKILL)
        wait_for(lambda: _leading(second), 15, "the standby to take the expired lease")
    assert watch.overlaps == []


def test_a_frozen_leader_wakes_up_demoted_and_exits(
    kube_cluster: KubeCluster, admin: KubeClient, pair: list[Service], kube_namespace: str
) -> None:
    first, second = pair
    with LeaderWatch(pair) as watch:
        _signal(first, signal.SIGSTOP)
        wait_for(lambda: _leading(second), 15, "the standby to take over from the frozen leader")
        kube_cluster.apply(sora_deployment(NAME, kube_namespace, {"environment": "dev"}))
        _signal(first, signal.SIGCONT)
        first.process.wait(timeout=30)
        wait_ready(admin, kube_namespace, NAME)
    assert first.process.returncode == 1
    assert watch.overlaps == []
    assert _reconciles(second) > 0


def test_an_operator_killed_mid_way_converges_after_restart_without_a_new_secret(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    first = start_operator(kube_namespace, identity="operator-a")
    # No scaling windows: prod's night window (22:00-06:00 UTC on weekdays) lowers the floor
    # to 1, and this test must not depend on the time of day it runs at.
    spec = {"environment": "prod", "fileServer": {"autoscaling": {"schedules": []}}}
    kube_cluster.apply(sora_deployment(NAME, kube_namespace, spec))
    secret = ObjectRef("Secret", kube_namespace, f"{NAME}-secrets")
    created: dict[str, Any] = wait_for(lambda: admin.get(secret), 30, "the Secret")
    first.kill(signal.SIGKILL)
    start_operator(kube_namespace, identity="operator-a")
    body = wait_ready(admin, kube_namespace, NAME)
    assert body["status"]["fileServer"]["ready"] == "2/2"
    after = admin.get(secret)
    assert after is not None
    assert after["data"] == created["data"]
