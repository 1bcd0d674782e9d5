"""Lease election with controlled clocks: who leads, when a standby may take over."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from sora_operator.config import LeaseSettings
from sora_operator.kube import ApiError
from sora_operator.leader import LeaderElector
from sora_operator.objects import ObjectRef

REF = ObjectRef("Lease", "ops", "sora-operator")


class FakeLeases:
    """A Lease store with resourceVersion checks, like the API server's."""

    def __init__(self) -> None:
        self.lease: dict[str, Any] | None = None
        self.version = 0
        self.fail_next: ApiError | None = None
        self.serve_next: dict[str, Any] | None = None

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        if self.serve_next is not None:
            stale, self.serve_next = self.serve_next, None
            return stale
        if self.fail_next:
            error, self.fail_next = self.fail_next, None
            raise error
        return deepcopy(self.lease)

    def create(self, manifest: dict[str, Any]) -> dict[str, Any] | None:
        if self.lease is not None:
            return None
        return self._store(manifest)

    def replace(self, manifest: dict[str, Any]) -> dict[str, Any]:
        assert self.lease is not None
        if manifest["metadata"].get("resourceVersion") != self.lease["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", "the object has been modified", REF)
        return self._store(manifest)

    def _store(self, manifest: dict[str, Any]) -> dict[str, Any]:
        self.version += 1
        self.lease = deepcopy(manifest)
        self.lease["metadata"]["resourceVersion"] = str(self.version)
        return deepcopy(self.lease)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _elector(leases: FakeLeases, clock: Clock, identity: str) -> LeaderElector:
    settings = LeaseSettings(True, REF.name, REF.namespace, identity, 15.0, 10.0, 2.0)
    return LeaderElector(
        leases, settings, monotonic=clock, wall_clock=lambda: "2026-01-01T00:00:00.000000Z"
    )


def test_the_first_candidate_creates_the_lease_and_leads() -> None:
    leases, clock = FakeLeases(), Clock()
    assert _elector(leases, clock, "a").try_acquire_or_renew()
    assert leases.lease is not None
    assert leases.lease["spec"]["holderIdentity"] == "a"


def test_a_second_candidate_stands_by_while_the_lease_is_renewed() -> None:
    leases, clock = FakeLeases(), Clock()
    leader, standby = _elector(leases, clock, "a"), _elector(leases, clock, "b")
    leader.try_acquire_or_renew()
    for _ in range(20):
        clock.now += 2
        assert leader.try_acquire_or_renew()
        assert not standby.try_acquire_or_renew()


def test_a_standby_takes_over_only_after_the_lease_went_unrenewed_for_its_duration() -> None:
    leases, clock = FakeLeases(), Clock()
    _elector(leases, clock, "a").try_acquire_or_renew()
    standby = _elector(leases, clock, "b")
    assert not standby.try_acquire_or_renew()
    clock.now += 14.9
    assert not standby.try_acquire_or_renew()
    clock.now += 0.2
    assert standby.try_acquire_or_renew()
    assert leases.lease is not None
    assert leases.lease["spec"]["leaseTransitions"] == 1


def test_a_leader_stops_leading_before_a_standby_may_take_over() -> None:
    leases, clock = FakeLeases(), Clock()
    leader = _elector(leases, clock, "a")
    leader.try_acquire_or_renew()
    clock.now += 10.0
    assert not leader.is_leading()


def test_a_leader_that_cannot_reach_the_api_keeps_leading_until_the_renew_deadline() -> None:
    leases, clock = FakeLeases(), Clock()
    leader = _elector(leases, clock, "a")
    leader.try_acquire_or_renew()
    clock.now += 5
    leases.fail_next = ApiError(0, "Unreachable", "connection refused")
    assert leader.try_acquire_or_renew()
    clock.now += 5
    leases.fail_next = ApiError(0, "Unreachable", "connection refused")
    assert not leader.try_acquire_or_renew()


def test_of_two_candidates_taking_over_the_same_version_only_one_wins() -> None:
    leases, clock = FakeLeases(), Clock()
    _elector(leases, clock, "old").try_acquire_or_renew()
    first, second = _elector(leases, clock, "a"), _elector(leases, clock, "b")
    first.try_acquire_or_renew()
    second.try_acquire_or_renew()
    clock.now += 16
    expired = leases.get(REF)
    assert first.try_acquire_or_renew()
    leases.serve_next = expired  # b read the lease before a wrote it
    assert not second.try_acquire_or_renew()
    assert leases.lease is not None
    assert leases.lease["spec"]["holderIdentity"] == "a"


def test_release_empties_the_holder_so_a_standby_takes_over_at_once() -> None:
    leases, clock = FakeLeases(), Clock()
    leader, standby = _elector(leases, clock, "a"), _elector(leases, clock, "b")
    leader.try_acquire_or_renew()
    assert not standby.try_acquire_or_renew()
    leader.release()
    assert not leader.is_leading()
    assert standby.try_acquire_or_renew()


def test_a_restarted_process_with_the_same_identity_leads_again_at_once() -> None:
    leases, clock = FakeLeases(), Clock()
    _elector(leases, clock, "pod-1").try_acquire_or_renew()
    assert _elector(leases, clock, "pod-1").try_acquire_or_renew()
