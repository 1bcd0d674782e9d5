"""kopf handlers: when to reconcile, and how to report. The work is in reconcile.py.

A SoraDeployment is reconciled when it is created, changed or found at start
(resume), every resync period (timer, the safety net), every 30 s when it has
scaling windows or continuous replication (timer: the window in force moves with
the clock; the replication lag in the status follows the sidecar), and whenever
one of its children changes or disappears (drift; not for the watch event of
the operator's own write, child_watch.py). All of these go through one
CoalescingRunner, so one SoraDeployment never has two reconciles at once; its
status is written inside that reconcile (a status patch deferred to kopf
could race with a drift reconcile and store the older observation).

Errors: a temporary API error becomes ``kopf.TemporaryError`` (kopf retries
after a delay); a spec that cannot be realised is a Degraded condition, not an
exception, so nothing retries in a loop and other SoraDeployments carry on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, cast

import kopf

from sora_operator.api.v1alpha1 import GROUP, KIND, PLURAL, VERSION
from sora_operator.backups.metrics import BackupTracker
from sora_operator.builders import labels
from sora_operator.coalescing import CoalescingRunner
from sora_operator.events import reconcile_events
from sora_operator.kube import ApiError, KubeClient, NotLeadingError
from sora_operator.metrics import OperatorMetrics
from sora_operator.objects import ObjectRef
from sora_operator.reconcile import Outcome, Reconciler
from sora_operator.spec import (
    SpecError,
    continuous_replication,
    scaling_windows_apply,
    validated,
)

RETRY_DELAY_SECONDS: Final = 10
#: The children the operator watches for drift: (group, version, plural); core is "v1".
CHILD_RESOURCES: Final = (
    ("apps", "v1", "deployments"),
    ("v1", "services"),
    ("v1", "configmaps"),
    ("v1", "serviceaccounts"),
    ("v1", "persistentvolumeclaims"),
    ("networking.k8s.io", "v1", "ingresses"),
    ("networking.k8s.io", "v1", "networkpolicies"),
    ("policy", "v1", "poddisruptionbudgets"),
    ("autoscaling", "v2", "horizontalpodautoscalers"),
    ("batch", "v1", "cronjobs"),
    ("batch", "v1", "jobs"),  # backup and restore Jobs: their outcomes go into the status
    # Watched once the Prometheus Operator's CRDs exist (kopf waits for them quietly).
    ("monitoring.coreos.com", "v1", "servicemonitors"),
    ("monitoring.coreos.com", "v1", "prometheusrules"),
)
#: How often the scaling windows of autoscaled SoraDeployments with schedules are re-evaluated.
SCHEDULE_CHECK_SECONDS: Final = 30.0

Key = tuple[str, str]


@dataclass
class DegradedSet:
    """Which SoraDeployments are Degraded (for the metric), safe across handler threads."""

    _keys: set[Key] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def mark(self, key: Key, degraded: bool) -> None:
        with self._lock:
            (self._keys.add if degraded else self._keys.discard)(key)

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)


@dataclass(frozen=True)
class OperatorContext:
    """What the handlers share, passed to kopf as its ``memo``."""

    cluster: KubeClient
    reconciler: Reconciler
    reconciles: CoalescingRunner
    metrics: OperatorMetrics
    degraded: DegradedSet
    backups: BackupTracker = field(default_factory=BackupTracker)


def register(
    registry: kopf.OperatorRegistry,
    resync_seconds: float,
    credentials: Callable[[], kopf.ConnectionInfo],
) -> None:
    """Register every handler on ``registry`` (no module-level registration)."""
    resource = (GROUP, VERSION, PLURAL)

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return credentials()

    @kopf.on.resume(*resource, registry=registry)
    def resume_soradeployment(name: str, namespace: str | None, memo: Any, **_: Any) -> None:
        _reconcile_or_retry(memo, (namespace or "", name), "resume")

    @kopf.on.create(*resource, registry=registry)
    def create_soradeployment(name: str, namespace: str | None, memo: Any, **_: Any) -> None:
        _reconcile_or_retry(memo, (namespace or "", name), "create")

    @kopf.on.update(*resource, field="spec", registry=registry)
    def update_soradeployment(name: str, namespace: str | None, memo: Any, **_: Any) -> None:
        _reconcile_or_retry(memo, (namespace or "", name), "update")

    @kopf.timer(*resource, interval=resync_seconds, initial_delay=resync_seconds, registry=registry)
    def resync_soradeployment(name: str, namespace: str | None, memo: Any, **_: Any) -> None:
        _reconcile_or_retry(memo, (namespace or "", name), "resync")

    @kopf.timer(
        *resource,
        interval=SCHEDULE_CHECK_SECONDS,
        initial_delay=SCHEDULE_CHECK_SECONDS,
        when=has_schedules,
        registry=registry,
    )
    def schedule_soradeployment(name: str, namespace: str | None, memo: Any, **_: Any) -> None:
        _reconcile_or_retry(memo, (namespace or "", name), "schedule")

    for child in CHILD_RESOURCES:
        kopf.on.event(*child, labels={labels.MANAGED_BY: labels.OPERATOR}, registry=registry)(
            child_changed
        )


def child_changed(
    type: str,
    body: kopf.Body,
    memo: Any,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    """A child was added, changed or deleted: reconcile its SoraDeployment to repair drift."""
    if not type:
        return  # None: the initial listing at start; the resume handlers cover it
    key = parent_of(body)
    if key is None:
        return
    if memo.reconciler.known_absent is not None:
        memo.reconciler.known_absent.seen(body)
    if memo.reconciler.seen_children.is_seen(type, body):
        return  # a reconcile has seen this version, or it changes only status nobody reads
    try:
        _reconcile(memo, key, "drift")
    except (ApiError, NotLeadingError) as error:
        logger.warning("drift repair of %s/%s postponed: %s", *key, error)


def has_schedules(spec: Mapping[str, Any], **_: Any) -> bool:
    """Autoscaled with scaling windows: the window in force moves with the clock; or
    continuously replicated: status.replication (and its alert) follows the lag."""
    try:
        parsed = validated(spec)
    except SpecError:
        return False  # the reconcile reports the spec; nothing moves with the clock meanwhile
    return scaling_windows_apply(parsed) or continuous_replication(parsed)


def parent_of(child: Mapping[str, Any]) -> Key | None:
    metadata = child.get("metadata", {})
    name = (metadata.get("labels") or {}).get(labels.INSTANCE)
    namespace = metadata.get("namespace")
    return (namespace, name) if name and namespace else None


def _reconcile_or_retry(ctx: OperatorContext, key: Key, trigger: str) -> None:
    try:
        _reconcile(ctx, key, trigger)
    except ApiError as error:
        raise kopf.TemporaryError(f"{error}; retrying", delay=RETRY_DELAY_SECONDS) from error
    except NotLeadingError as error:
        logging.getLogger(__name__).warning("%s", error)


def _reconcile(ctx: OperatorContext, key: Key, trigger: str) -> None:
    ctx.reconciles.run(key, lambda: _reconcile_once(ctx, key, trigger))


def _reconcile_once(ctx: OperatorContext, key: Key, trigger: str) -> None:
    ref = ObjectRef(KIND, *key)
    with ctx.metrics.timed(trigger) as result:
        try:
            body = ctx.cluster.get(ref)
            if body is None or body.get("metadata", {}).get("deletionTimestamp"):
                ctx.backups.forget(key)
                result("gone")
                return
            outcome = ctx.reconciler.reconcile(body)
            if outcome.status_patch:
                logging.getLogger(__name__).debug("%s: status patch %s", ref, outcome.status_patch)
                ctx.cluster.patch_status(ref, outcome.status_patch)
        except ApiError:
            ctx.metrics.errors.labels(error="api").inc()
            raise
        except NotLeadingError:
            ctx.metrics.errors.labels(error="not_leading").inc()
            raise
        _report(ctx, key, body, outcome)
        result("degraded" if outcome.problems else "changed" if outcome.changes else "converged")


def _report(ctx: OperatorContext, key: Key, body: Mapping[str, Any], outcome: Outcome) -> None:
    """Metrics for what changed, and the Events events.py decides."""
    for change in outcome.changes:
        ctx.metrics.child_changes.labels(change=change.verb, kind=change.ref.kind).inc()
    ctx.degraded.mark(key, bool(outcome.problems))
    ctx.backups.record(key, outcome.status)
    previous = body.get("status") or {}
    log = logging.getLogger(__name__)
    for event in reconcile_events(previous, outcome.changes, outcome.status_patch, outcome.status):
        log.info("%s/%s: %s: %s", *key, event.reason, event.message)
        emit = kopf.warn if event.warning else kopf.info
        emit(_event_target(body), reason=event.reason, message=event.message)


def _event_target(body: Mapping[str, Any]) -> kopf.Body:
    return kopf.Body(cast(kopf.RawBody, dict(body)))
