"""Compare and apply: bring the children of one SoraDeployment to their desired state.

For each child the builders describe: read the live object, compare the
fields the operator sets (compare.py), and server-side apply only when they
differ, so a converged platform costs reads and no writes. The Secrets (the
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

from sora_operator import diagnosis, monitoring, schedules
from sora_operator import status as platform_status
from sora_operator.backups import restore as restore_sequence
from sora_operator.backups import view as backup_view
from sora_operator.builders import labels, names, secret
from sora_operator.builders import restore as restore_builder
from sora_operator.builders.desired import desired_state
from sora_operator.clock import parse_time
from sora_operator.compare import differences, fingerprinted
from sora_operator.hpa_handover import handover_manifest, needs_handover, replicas_manifest
from sora_operator.kube import FIELD_MANAGER, ApiError
from sora_operator.monitoring import PROMETHEUS_OPERATOR_KINDS
from sora_operator.objects import ObjectRef, ref_of
from sora_operator.spec import (
    ADMIN_SECRET_KEYS,
    KIND,
    SECRET_KEYS,
    ImageDefaults,
    Restore,
    SoraDeployment,
    SpecError,
    engine_change_refusal,
    missing_secret_keys,
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


class UnrealisableError(Exception):
    """The spec asks for something the cluster refuses; becomes a Degraded Problem."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


@dataclass(frozen=True)
class Change:
    """One write the reconcile made, for Events and logs."""

    verb: str  # Created, Updated, Deleted
    ref: ObjectRef
    fields: tuple[str, ...] = ()

    def describe(self) -> str:
        detail = f" ({', '.join(self.fields[:5])})" if self.fields else ""
        return f"{self.verb} {self.ref.kind} {self.ref.name}{detail}"


@dataclass
class Outcome:
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    #: What to merge into the stored status (empty: the stored status is current).
    status_patch: dict[str, Any] = field(default_factory=dict)
    #: The Prometheus Operator kinds the cluster served during this reconcile.
    monitoring_kinds: frozenset[str] = PROMETHEUS_OPERATOR_KINDS


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
        )
        if view is not None and view.restore.start_job is not None:
            request = view.restore.start_job
            self._attempt(outcome, partial(self._start_restore, sora_deployment, request, outcome))
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
                observed = self._observe(deployment, own_claim, events)
                item = replace(item, cause=diagnosis.diagnose(observed) if observed else None)
            rollouts.append(item)
        return rollouts

    def _observe(
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

    def _start_restore(
        self, sora_deployment: SoraDeployment, request: Restore, outcome: Outcome
    ) -> None:
        """Create the restore Job (named after the request: never two for one request)."""
        job = restore_builder.restore_job(sora_deployment, request)
        if self.cluster.create(job) is not None:
            outcome.changes.append(Change("Created", ref_of(job)))

    def _converge_all(
        self, sora_deployment: SoraDeployment, outcome: Outcome, now: str
    ) -> dict[ObjectRef, Any]:
        self._attempt(outcome, lambda: self._ensure_secret(sora_deployment, outcome))
        self._attempt(outcome, lambda: self._ensure_admin_secret(sora_deployment, outcome))
        outcome.monitoring_kinds = self._monitoring_kinds(sora_deployment)
        state = desired_state(
            sora_deployment,
            self._bounds(sora_deployment, now),
            outcome.monitoring_kinds,
            self._feedback_bounds(sora_deployment, now),
        )
        live: dict[ObjectRef, Any] = {}
        for manifest in state.manifests:
            live[ref_of(manifest)] = self._attempt(
                outcome, partial(self._converge, manifest, sora_deployment, outcome, now)
            )
        for ref in state.absent:
            self._attempt(outcome, partial(self._remove, ref, sora_deployment, outcome))
        return live

    def _attempt(self, outcome: Outcome, step: Callable[[], Any]) -> Any:
        """Run one step; a refusal becomes a Problem, a temporary error propagates."""
        try:
            return step()
        except UnrealisableError as error:
            outcome.problems.append(error.problem)
        except ApiError as error:
            if error.temporary:
                raise
            outcome.problems.append(_refusal(error))
        return None

    def _converge(
        self,
        manifest: Mapping[str, Any],
        sora_deployment: SoraDeployment,
        outcome: Outcome,
        now: str,
    ) -> dict[str, Any]:
        desired = fingerprinted(manifest)
        ref = ref_of(desired)
        live = self.cluster.get(ref)
        if live is None:
            outcome.changes.append(Change("Created", ref))
            created = self.cluster.apply(desired)
            floor = self._autoscaled_floor(ref, sora_deployment, now)
            if self.handover is not None and floor is not None:
                # Without replicas the API creates 1 pod; the HPA would raise it only after
                # its first metrics, and Ready would count 1/1 meanwhile.
                return self.handover.apply(replicas_manifest(created, floor))
            return created
        _check_ownership(live, ref, sora_deployment)
        drift = differences(desired, live)
        if not drift:
            return live
        outcome.changes.append(Change("Updated", ref, tuple(drift)))
        if self.handover is not None and needs_handover(desired, live, FIELD_MANAGER):
            self.handover.apply(handover_manifest(live))
        return self.cluster.apply(desired)

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

    def _remove(self, ref: ObjectRef, sora_deployment: SoraDeployment, outcome: Outcome) -> None:
        live = self.cluster.get(ref)
        if live is not None and _is_ours(live, sora_deployment):
            self.cluster.delete(ref)
            outcome.changes.append(Change("Deleted", ref))

    def _ensure_secret(self, sora_deployment: SoraDeployment, outcome: Outcome) -> None:
        ref = ObjectRef(
            "Secret", sora_deployment.namespace, sora_deployment.feedback_api.secret_name
        )
        live = self.cluster.get(ref)
        if live is not None:
            _check_secret_keys(live, ref)
            return
        if sora_deployment.feedback_api.secret_is_external:
            raise UnrealisableError(
                Problem(
                    "SecretMissing",
                    f"Secret {ref.name} (feedbackApi.existingSecret) does not exist. It is "
                    "managed outside the operator (External Secrets, Secrets Manager): "
                    f"create it with {', '.join(SECRET_KEYS)}; the operator never generates "
                    "keys for a Secret it does not own.",
                )
            )
        claim = ObjectRef(
            "PersistentVolumeClaim",
            sora_deployment.namespace,
            names.database_claim(sora_deployment),
        )
        if self.cluster.get(claim) is not None:
            raise UnrealisableError(
                Problem(
                    "SecretMissing",
                    f"Secret {ref.name} is missing but the database volume {claim.name} exists. "
                    "Restore the Secret with its original ENCRYPTION_KEY; the operator does not "
                    "generate a new key for existing data.",
                )
            )
        if self.cluster.create(
            secret.generated_secret(sora_deployment, self.generate_secret_values())
        ):
            outcome.changes.append(Change("Created", ref))

    def _ensure_admin_secret(self, sora_deployment: SoraDeployment, outcome: Outcome) -> None:
        """SESSION_SECRET for the admin panel: created when missing, then never touched.

        Kept when the panel is turned off (the operator may not delete Secrets), so
        turning it on again finds the same key.
        """
        if not sora_deployment.admin.enabled:
            return
        ref = ObjectRef(
            "Secret", sora_deployment.namespace, sora_deployment.admin.session_secret_name
        )
        live = self.cluster.get(ref)
        if live is not None:
            _check_secret_keys(live, ref, ADMIN_SECRET_KEYS)
            return
        values = self.generate_admin_secret_values()
        if self.cluster.create(secret.generated_admin_secret(sora_deployment, values)):
            outcome.changes.append(Change("Created", ref))

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


def _is_ours(live: Mapping[str, Any], sora_deployment: SoraDeployment) -> bool:
    """Managed by the operator for a SoraDeployment of this name (this one or a deleted one)."""
    found = live.get("metadata", {}).get("labels") or {}
    return bool(
        found.get(labels.MANAGED_BY) == labels.OPERATOR
        and found.get(labels.INSTANCE) == sora_deployment.name
    )


def _check_ownership(
    live: Mapping[str, Any], ref: ObjectRef, sora_deployment: SoraDeployment
) -> None:
    if _is_ours(live, sora_deployment):
        return
    raise UnrealisableError(
        Problem(
            "NameTaken",
            f"{ref.kind} {ref.name} already exists and is not managed by this {KIND}; "
            "delete or rename it, and the operator will create its own.",
        )
    )


def _check_secret_keys(
    live: Mapping[str, Any], ref: ObjectRef, keys: tuple[str, ...] = SECRET_KEYS
) -> None:
    missing = missing_secret_keys(live.get("data"), keys)
    if missing:
        raise UnrealisableError(
            Problem(
                "SecretIncomplete",
                f"Secret {ref.name} lacks {', '.join(missing)}. Add them yourself; the "
                "operator never changes an existing Secret.",
            )
        )


def _refusal(error: ApiError) -> Problem:
    if error.status == 403:
        return Problem(
            "Forbidden",
            f"{error.ref}: the operator may not do this ({error.message}). "
            "Check its ClusterRole against operator/sora_operator/rbac.yaml.",
        )
    return Problem("Rejected", f"The API server refused {error.ref}: {error.message}")
