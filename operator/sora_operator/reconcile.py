"""Observe, plan, apply: bring the children of one SoraDeployment to their desired state.

One reconcile reads the clock once, then: observe (the backup Jobs and the
restore's pods, the Secrets, every child the builders describe or the spec turned
off, the served Prometheus Operator kinds), plan (plan.py, pure: the fields the
operator sets are compared, compare.py, and only what differs is written), apply
(only writes, server-side apply), and the status from what the writes returned
(status.py, backups/view.py). A converged platform costs reads and no writes. The Secrets (the
platform's, and the admin panel's) are only ever created. Children the spec
turned off are deleted. A child the API server refuses (an immutable field, a
name taken by someone else's object) is reported as a Problem and the others
still converge; errors worth retrying (conflicts, throttling, an unreachable
server) propagate as ApiError.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache, partial
from typing import Any, Protocol

from sora_operator import diagnosis, monitoring, plan, schedules
from sora_operator import status as platform_status
from sora_operator.backups import restore as restore_sequence
from sora_operator.backups import view as backup_view
from sora_operator.builders import names
from sora_operator.builders import restore as restore_builder
from sora_operator.builders.desired import DesiredState, desired_state
from sora_operator.child_watch import KnownAbsent, SeenChildren
from sora_operator.clock import parse_time
from sora_operator.hpa_handover import replicas_manifest
from sora_operator.kube import ApiError
from sora_operator.monitoring import PROMETHEUS_OPERATOR_KINDS
from sora_operator.objects import ObjectRef, ref_of
from sora_operator.spec import (
    ADMIN_SECRET_KEYS,
    SECRET_KEYS,
    ImageDefaults,
    Restore,
    SoraDeployment,
    SpecError,
    engine_change_refusal,
    parse,
)
from sora_operator.status import Problem

logger = logging.getLogger(__name__)


class Cluster(Protocol):
    """What the reconcile needs from the API (kube.KubeClient, or a fake in unit tests)."""

    def get(self, ref: ObjectRef) -> dict[str, Any] | None: ...

    def apply(self, manifest: Mapping[str, Any]) -> dict[str, Any]: ...

    def create(self, manifest: Mapping[str, Any]) -> dict[str, Any] | None: ...

    def delete(self, ref: ObjectRef) -> None: ...

    def list_objects(
        self, kind: str, namespace: str | None, selector: str = "", fields: str = ""
    ) -> list[dict[str, Any]]: ...

    def served_kinds(self, api_version: str) -> frozenset[str]: ...


@dataclass
class Outcome:
    changes: list[plan.Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    #: What to merge into the stored status (empty: the stored status is current).
    status_patch: dict[str, Any] = field(default_factory=dict)
    #: The Prometheus Operator kinds the cluster served during this reconcile.
    monitoring_kinds: frozenset[str] = PROMETHEUS_OPERATOR_KINDS


@dataclass
class Observation:
    """What one reconcile read before writing: None for an object that does not exist;
    an object the API would not let us read is not there at all."""

    secrets: dict[ObjectRef, dict[str, Any] | None] = field(default_factory=dict)
    children: dict[ObjectRef, dict[str, Any] | None] = field(default_factory=dict)


def random_secret_values() -> dict[str, str]:
    return {key: secrets.token_urlsafe(32) for key in SECRET_KEYS}


def random_admin_secret_values() -> dict[str, str]:
    return {key: secrets.token_urlsafe(32) for key in ADMIN_SECRET_KEYS}


@dataclass
class Reconciler:
    cluster: Cluster
    image_defaults: ImageDefaults
    clock: Callable[[], str]
    generate_secret_values: Callable[[], Mapping[str, str]] = random_secret_values
    generate_admin_secret_values: Callable[[], Mapping[str, str]] = random_admin_secret_values
    #: Applies as another field manager, to hand ``replicas`` over to the HPA (hpa_handover.py).
    handover: Cluster | None = None
    #: Remembers what each read and write returned, so that its watch event starts no reconcile.
    seen_children: SeenChildren = field(default_factory=SeenChildren)
    #: Turned-off children a lookup found absent (child_watch.py); None: look each time.
    known_absent: KnownAbsent | None = None

    def reconcile(self, body: Mapping[str, Any]) -> Outcome:
        outcome = Outcome()
        now = self.clock()  # read once: every decision of this reconcile sees the same time
        generation = int(body.get("metadata", {}).get("generation", 0))
        previous = body.get("status") or {}
        try:
            sora_deployment = parse(body, self.image_defaults)
        except SpecError as error:
            outcome.problems.append(Problem("InvalidSpec", str(error)))
            return self._finish(outcome, None, generation, previous, {}, now=now)
        refusal = engine_change_refusal(sora_deployment, _recorded_engine(previous))
        if refusal is not None:  # nothing is changed: the pods keep the old database
            outcome.problems.append(Problem("EngineChangeRefused", refusal))
            return self._finish(outcome, None, generation, previous, {}, now=now)
        view = self._attempt(
            outcome, lambda: backup_view.observe(self.cluster, sora_deployment, previous, now)
        )
        holding = (
            view.restore.hold_down
            if view is not None
            else (previous.get("restore") or {}).get("phase") in restore_sequence.HOLDING_PHASES
        )
        live = self._converge_all(
            restore_sequence.held_down(sora_deployment) if holding else sora_deployment,
            outcome,
            now,
            restore=view.restore.start_job if view is not None else None,
        )
        return self._finish(
            outcome, sora_deployment, generation, previous, live, now=now, view=view
        )

    def _rollouts(
        self, sora_deployment: SoraDeployment, live: Mapping[ObjectRef, Any]
    ) -> list[platform_status.Rollout]:
        """Each component's rollout; one that is not complete, with what blocks it."""
        events = cache(
            lambda: self.cluster.list_objects(
                "Event", sora_deployment.namespace, "", diagnosis.EVENTS_READ
            )
        )
        claim = live.get(
            ObjectRef(
                "PersistentVolumeClaim",
                sora_deployment.namespace,
                names.database_claim(sora_deployment),
            )
        )
        rollouts = []
        for label, name in _components(sora_deployment):
            deployment = live.get(ObjectRef("Deployment", sora_deployment.namespace, name))
            item = platform_status.rollout(label, deployment)
            if deployment is not None and item.wanted > 0 and not item.complete:
                own_claim = claim if label == "feedback API" else None
                observed = self._diagnosis_inputs(deployment, own_claim, events)
                item = replace(item, cause=diagnosis.diagnose(observed) if observed else None)
            rollouts.append(item)
        return rollouts

    def _diagnosis_inputs(
        self,
        deployment: Mapping[str, Any],
        claim: Mapping[str, Any] | None,
        events: Callable[[], list[dict[str, Any]]],
    ) -> diagnosis.Observation | None:
        """A component's pods and the Events about them; None if the API refuses (best effort:
        the status is written without a cause rather than not at all)."""
        match = (deployment.get("spec") or {}).get("selector", {}).get("matchLabels") or {}
        selector = ",".join(f"{key}={value}" for key, value in sorted(match.items()))
        namespace = deployment["metadata"]["namespace"]
        try:
            pods = self.cluster.list_objects("Pod", namespace, selector)
            return diagnosis.Observation(pods, events(), claim)
        except ApiError as error:
            logger.debug("no diagnosis of %s: %s", deployment["metadata"]["name"], error)
            return None

    def _converge_all(
        self,
        sora_deployment: SoraDeployment,
        outcome: Outcome,
        now: str,
        restore: Restore | None = None,
    ) -> dict[ObjectRef, Any]:
        """Observe, plan, apply; the children as they are afterwards (None: not readable)."""
        outcome.monitoring_kinds = self._monitoring_kinds(sora_deployment)
        state = desired_state(
            sora_deployment,
            self._bounds(sora_deployment, now),
            outcome.monitoring_kinds,
            self._feedback_bounds(sora_deployment, now),
        )
        seen = self._observe(sora_deployment, state, outcome)
        writes, refused = self._plan(sora_deployment, state, seen, outcome, now=now)
        if restore is not None:  # named after the request: never two Jobs for one request
            job = restore_builder.restore_job(sora_deployment, restore)
            writes.append(plan.Write(plan.Change("Created", ref_of(job)), job, create_only=True))
        live = {
            ref: None if ref in refused else seen.children.get(ref)
            for ref in map(ref_of, state.manifests)
        }
        for write in writes:
            written = self._attempt(outcome, partial(self._apply, write, outcome))
            self.seen_children.record(written)
            if write.ref in live:
                live[write.ref] = written
        return live

    def _observe(
        self, sora_deployment: SoraDeployment, state: DesiredState, outcome: Outcome
    ) -> Observation:
        """Every read the writes depend on, before any write. A read the API refuses is
        a Problem, and what depends on it is left alone this time."""
        seen = Observation()
        secrets = [plan.secret_ref(sora_deployment)]
        if sora_deployment.admin.enabled:
            secrets.append(plan.admin_secret_ref(sora_deployment))
        for ref in secrets:
            self._read(ref, seen.secrets, outcome)
        for ref in map(ref_of, state.manifests):
            if self.known_absent is not None:
                self.known_absent.forget(ref)
            self._read(ref, seen.children, outcome)
        for ref in state.absent:
            if self.known_absent is not None and self.known_absent.holds(ref):
                seen.children[ref] = None
                continue
            self._read(ref, seen.children, outcome)
            if self.known_absent is not None and ref in seen.children and not seen.children[ref]:
                self.known_absent.record(ref)
        claim = plan.claim_ref(sora_deployment)
        secret_missing = seen.secrets.get(plan.secret_ref(sora_deployment), {}) is None
        if secret_missing and claim not in seen.children:
            self._read(claim, seen.children, outcome)  # may a new key be generated?
        for child in seen.children.values():
            self.seen_children.record(child)  # its watch event then tells nothing new
        return seen

    def _read(
        self, ref: ObjectRef, into: dict[ObjectRef, dict[str, Any] | None], outcome: Outcome
    ) -> None:
        """``into[ref]``: the live object or None; left out when the API refuses the read."""
        try:
            into[ref] = self.cluster.get(ref)
        except ApiError as error:
            if error.temporary:
                raise
            outcome.problems.append(_refusal(error))

    def _plan(
        self,
        sora_deployment: SoraDeployment,
        state: DesiredState,
        seen: Observation,
        outcome: Outcome,
        *,
        now: str,
    ) -> tuple[list[plan.Write], set[ObjectRef]]:
        """The writes that bring the children to the desired state, in its order, and the
        objects that may not be touched (a Problem each). Only what was read is planned."""
        writes: list[plan.Write] = []
        refused: set[ObjectRef] = set()

        def decide(ref: ObjectRef, choose: Callable[[], plan.Write | None]) -> None:
            try:
                decided = choose()
            except plan.UnrealisableError as error:
                outcome.problems.append(error.problem)
                refused.add(ref)
                return
            if decided is not None:
                writes.append(decided)

        secret = plan.secret_ref(sora_deployment)
        if secret in seen.secrets:
            claim = seen.children.get(plan.claim_ref(sora_deployment))
            decide(
                secret,
                partial(
                    plan.secret_write,
                    sora_deployment,
                    seen.secrets[secret],
                    claim,
                    self.generate_secret_values,
                ),
            )
        admin_secret = plan.admin_secret_ref(sora_deployment)
        if admin_secret in seen.secrets:
            decide(
                admin_secret,
                partial(
                    plan.admin_secret_write,
                    sora_deployment,
                    seen.secrets[admin_secret],
                    self.generate_admin_secret_values,
                ),
            )
        for manifest in state.manifests:
            ref = ref_of(manifest)
            if ref in seen.children:
                floor = self._autoscaled_floor(ref, sora_deployment, now)
                decide(
                    ref,
                    partial(
                        plan.child_write,
                        manifest,
                        seen.children[ref],
                        sora_deployment,
                        floor=floor,
                        hands_over=self.handover is not None,
                    ),
                )
        for ref in state.absent:
            if ref in seen.children:
                decide(ref, partial(plan.removal, ref, seen.children[ref], sora_deployment))
        return writes, refused

    def _apply(self, write: plan.Write, outcome: Outcome) -> dict[str, Any] | None:
        """Make one write; the object as the API returns it."""
        if write.manifest is None:
            self.cluster.delete(write.ref)
            outcome.changes.append(write.change)
            return None
        if write.create_only:
            created = self.cluster.create(write.manifest)
            if created is not None:
                outcome.changes.append(write.change)
            return created
        outcome.changes.append(write.change)
        if write.handover is not None and self.handover is not None:
            self.handover.apply(write.handover)
        written = self.cluster.apply(write.manifest)
        if write.floor is not None and self.handover is not None:
            # Without replicas the API creates 1 pod; the HPA would raise it only after
            # its first metrics, and Ready would count 1/1 meanwhile.
            return self.handover.apply(replicas_manifest(written, write.floor))
        return written

    def _attempt(self, outcome: Outcome, step: Callable[[], Any]) -> Any:
        """Run one step; a refusal becomes a Problem, a temporary error propagates."""
        try:
            return step()
        except ApiError as error:
            if error.temporary:
                raise
            outcome.problems.append(_refusal(error))
        return None

    def _monitoring_kinds(self, sora_deployment: SoraDeployment) -> frozenset[str]:
        """The Prometheus Operator kinds to converge: ask the API only when some are wanted.

        When none are wanted, all are "served": leftovers are looked up and deleted,
        and a lookup of a kind the cluster lacks is simply not found.
        """
        if not monitoring.wanted_kinds(sora_deployment):
            return PROMETHEUS_OPERATOR_KINDS
        return self.cluster.served_kinds(monitoring.API_GROUP_VERSION) & PROMETHEUS_OPERATOR_KINDS

    def _autoscaled_floor(
        self, ref: ObjectRef, sora_deployment: SoraDeployment, now: str
    ) -> int | None:
        """The HPA's floor now, for a Deployment an HPA scales; None for any other object."""
        if ref.kind != "Deployment":
            return None
        if (
            ref.name == names.file_server(sora_deployment)
            and sora_deployment.file_server.autoscaled
        ):
            return self._bounds(sora_deployment, now).min_replicas
        api = sora_deployment.feedback_api
        if ref.name == names.feedback_api(sora_deployment) and api.autoscaled:
            return self._feedback_bounds(sora_deployment, now).min_replicas
        return None

    def _bounds(self, sora_deployment: SoraDeployment, now: str) -> schedules.Bounds:
        """The autoscaler's bounds at the clock's time: the window in force, derived anew."""
        return schedules.bounds(sora_deployment.file_server.autoscaling, _moment(now))

    def _feedback_bounds(self, sora_deployment: SoraDeployment, now: str) -> schedules.Bounds:
        return schedules.bounds(sora_deployment.feedback_api.autoscaling, _moment(now))

    def _finish(
        self,
        outcome: Outcome,
        sora_deployment: SoraDeployment | None,
        generation: int,
        previous: Mapping[str, Any],
        live: Mapping[ObjectRef, Any],
        *,
        now: str,
        view: backup_view.BackupView | None = None,
    ) -> Outcome:
        rollouts = self._rollouts(sora_deployment, live) if sora_deployment else []
        ingress = (
            live.get(
                ObjectRef("Ingress", sora_deployment.namespace, names.ingress(sora_deployment))
            )
            if sora_deployment
            else None
        )
        outcome.status = platform_status.compute_status(
            sora_deployment,
            generation=generation,
            rollouts=rollouts,
            problems=outcome.problems,
            previous=previous,
            now=now,
            ingress=ingress,
        )
        if sora_deployment is not None:
            outcome.status["autoscaling"] = schedules.status(
                sora_deployment.file_server.autoscaling, self._bounds(sora_deployment, now)
            )
            outcome.status["monitoring"] = monitoring.monitoring_status(
                sora_deployment, outcome.monitoring_kinds
            )
            # The engine the pods now use: a later change of engine is checked against it.
            outcome.status["database"] = {"engine": sora_deployment.feedback_api.database.engine}
        outcome.status = backup_view.extend_status(
            outcome.status,
            sora_deployment,
            view,
            previous,
            feedback_available=any(
                item.label == "feedback API" and item.complete and item.wanted > 0
                for item in rollouts
            ),
            now=now,
        )
        outcome.status_patch = platform_status.status_changes(previous, outcome.status)
        return outcome


def _moment(now: str) -> datetime:
    moment = parse_time(now)
    if moment is None:
        raise ValueError(f"the operator's clock gave {now!r}, not an RFC 3339 time")
    return moment


def _recorded_engine(previous: Mapping[str, Any]) -> str | None:
    """The engine the operator last ran the feedback API on. A SoraDeployment reconciled
    before engines existed (no status.database) ran on SQLite."""
    recorded = (previous.get("database") or {}).get("engine")
    if recorded:
        return str(recorded)
    return "sqlite" if previous.get("observedGeneration") else None


def _components(sora_deployment: SoraDeployment) -> list[tuple[str, str]]:
    """(rollout label, Deployment name) of each component the spec runs."""
    components = [
        ("file server", names.file_server(sora_deployment)),
        ("feedback API", names.feedback_api(sora_deployment)),
    ]
    if sora_deployment.admin.enabled:
        components.append(("admin panel", names.admin(sora_deployment)))
    return components


def _refusal(error: ApiError) -> Problem:
    if error.status == 403:
        return Problem(
            "Forbidden",
            f"{error.ref}: the operator may not do this ({error.message}). "
            "Check its ClusterRole against operator/sora_operator/rbac.yaml.",
        )
    return Problem("Rejected", f"The API server refused {error.ref}: {error.message}")
