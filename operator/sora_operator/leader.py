"""Leader election on a ``coordination.k8s.io/v1`` Lease, as client-go does it.

kopf has no Lease election, and its peering freezes every replica that shares a
priority. So the operator elects a leader before kopf starts: the leader runs
kopf, a standby waits. Why two leaders cannot act at once:

* Lease writes carry the resourceVersion read, so of two candidates writing
  the same version one gets 409 and stays standby.
* A candidate takes over only after it has seen the same lease record,
  unchanged, for a full ``duration`` on its own monotonic clock.
* The leader counts its lease from the moment it *sent* the renewal, and stops
  acting (``is_leading()`` turns false, every API write is refused) once
  ``renew_deadline`` (< ``duration``) has passed without a successful renewal,
  then exits so that Kubernetes restarts it as a standby. A process that was
  frozen (SIGSTOP, a paused VM) wakes up with a stale lease and writes nothing.

A graceful stop releases the lease (empty holder) so a standby takes over at
once instead of after ``duration``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from sora_operator.config import LeaseSettings
from sora_operator.kube import ApiError
from sora_operator.objects import ObjectRef

logger = logging.getLogger(__name__)

MICROTIME = "%Y-%m-%dT%H:%M:%S.%fZ"


class LeaseApi(Protocol):
    def get(self, ref: ObjectRef) -> dict[str, Any] | None: ...

    def create(self, manifest: dict[str, Any]) -> dict[str, Any] | None: ...

    def replace(self, manifest: dict[str, Any]) -> dict[str, Any]: ...


def _wall_clock() -> str:
    return datetime.now(UTC).strftime(MICROTIME)


class LeaderElector:
    def __init__(
        self,
        api: LeaseApi,
        settings: LeaseSettings,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], str] = _wall_clock,
        on_write: Callable[[], None] = lambda: None,
    ) -> None:
        self.api = api
        self.settings = settings
        self.ref = ObjectRef("Lease", settings.namespace, settings.name)
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._on_write = on_write
        self._lock = threading.Lock()
        self._renewed_at: float | None = None  # monotonic time the last good renewal was sent
        self._observed: tuple[str, float] | None = None  # (resourceVersion, when first seen)

    # -- state ------------------------------------------------------------------------

    def is_leading(self) -> bool:
        with self._lock:
            renewed = self._renewed_at
        return renewed is not None and (
            self._monotonic() - renewed < self.settings.renew_deadline_seconds
        )

    # -- one attempt ------------------------------------------------------------------

    def try_acquire_or_renew(self) -> bool:
        """One round: create, take over an expired lease, or renew ours. True if we lead."""
        sent_at = self._monotonic()
        try:
            lease = self.api.get(self.ref)
            won = self._create() if lease is None else self._update(lease, sent_at)
        except ApiError as error:
            logger.warning("lease %s: %s", self.ref, error)
            return self.is_leading()
        if won:
            with self._lock:
                self._renewed_at = sent_at
        return self.is_leading()

    def _create(self) -> bool:
        now = self._wall_clock()
        self._on_write()
        created = self.api.create(self._manifest({}, now, now, transitions=0))
        return created is not None

    def _update(self, lease: dict[str, Any], sent_at: float) -> bool:
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        ours = holder == self.settings.identity
        if not ours and holder and not self._expired(lease, sent_at):
            return False
        now = self._wall_clock()
        acquired = spec.get("acquireTime") if ours else now
        transitions = int(spec.get("leaseTransitions", 0)) + (0 if ours else 1)
        self._on_write()
        try:
            self.api.replace(self._manifest(lease["metadata"], acquired or now, now, transitions))
        except ApiError as error:
            if error.status == 409:
                return False  # someone else wrote first; read again next round
            raise
        if not ours:
            logger.info("acquired lease %s (previous holder %r)", self.ref, holder)
        return True

    def _expired(self, lease: dict[str, Any], now: float) -> bool:
        """Unchanged for a whole lease duration, as seen by this process's own clock."""
        version = str(lease["metadata"].get("resourceVersion"))
        if self._observed is None or self._observed[0] != version:
            self._observed = (version, now)
        duration = float(
            (lease.get("spec") or {}).get("leaseDurationSeconds") or self.settings.duration_seconds
        )
        return now - self._observed[1] >= duration

    def _manifest(
        self, metadata: dict[str, Any], acquired: str, renewed: str, transitions: int
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": self.ref.name, "namespace": self.ref.namespace}
        if metadata.get("resourceVersion"):
            meta["resourceVersion"] = metadata["resourceVersion"]
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": meta,
            "spec": {
                "holderIdentity": self.settings.identity,
                "leaseDurationSeconds": round(self.settings.duration_seconds),
                "acquireTime": acquired,
                "renewTime": renewed,
                "leaseTransitions": transitions,
            },
        }

    # -- loops ------------------------------------------------------------------------

    def acquire(self, stop: threading.Event) -> bool:
        """Block until this process leads (True) or ``stop`` is set (False)."""
        logger.info("waiting for lease %s as %s", self.ref, self.settings.identity)
        while not stop.is_set():
            if self.try_acquire_or_renew():
                logger.info("leading: lease %s", self.ref)
                return True
            stop.wait(self.settings.retry_period_seconds)
        return False

    def keep_renewing(self, stop: threading.Event, on_lost: Callable[[], None]) -> None:
        """Renew every retry period until ``stop``; call ``on_lost`` once leadership lapses."""
        while not stop.wait(self.settings.retry_period_seconds):
            if not self.try_acquire_or_renew():
                logger.error("lost lease %s: stopping all work", self.ref)
                on_lost()
                return

    def release(self) -> None:
        """Give the lease up (empty holder) so a standby takes over without waiting."""
        with self._lock:
            was_leading = self._renewed_at is not None
            self._renewed_at = None
        if not was_leading:
            return
        try:
            lease = self.api.get(self.ref)
            spec = (lease or {}).get("spec") or {}
            if lease is None or spec.get("holderIdentity") != self.settings.identity:
                return
            released = self._manifest(lease["metadata"], self._wall_clock(), self._wall_clock(), 0)
            released["spec"].update(
                holderIdentity="",
                leaseDurationSeconds=1,
                leaseTransitions=int(spec.get("leaseTransitions", 0)),
            )
            self._on_write()
            self.api.replace(released)
            logger.info("released lease %s", self.ref)
        except ApiError as error:
            logger.warning("could not release lease %s: %s", self.ref, error)
