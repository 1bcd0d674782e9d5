"""spec.monitoring in the status and in Events (pure).

ServiceMonitors and the PrometheusRule are custom resources of the Prometheus
Operator. In a cluster without its CRDs the operator skips them: the platform
still converges and stays Ready, ``status.monitoring`` says what was skipped and
why, and one Event says so when that starts (and one when it ends). They are
created on the first reconcile after the CRDs appear (the resync at the latest).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Final

from sora_operator.spec import SoraDeployment

API_GROUP_VERSION: Final = "monitoring.coreos.com/v1"
#: Kinds of the Prometheus Operator's API the operator may create.
PROMETHEUS_OPERATOR_KINDS: Final = frozenset({"ServiceMonitor", "PrometheusRule"})

DISABLED: Final = "Disabled"
APPLIED: Final = "Applied"
SKIPPED: Final = "Skipped"


def wanted_kinds(sora_deployment: SoraDeployment) -> set[str]:
    """The Prometheus Operator kinds the spec asks for."""
    monitoring = sora_deployment.monitoring
    return {
        kind
        for kind, wanted in (
            ("ServiceMonitor", monitoring.service_monitors),
            ("PrometheusRule", monitoring.prometheus_rule),
        )
        if wanted
    }


def monitoring_status(sora_deployment: SoraDeployment, served: Collection[str]) -> dict[str, str]:
    """``status.monitoring``: Disabled, Applied, or Skipped with the reason and the remedy."""
    wanted = wanted_kinds(sora_deployment)
    missing = sorted(wanted - set(served))
    applied = sorted(wanted & set(served))
    if sora_deployment.monitoring.dashboard:
        applied.append("Grafana dashboard ConfigMap")
    if missing:
        made = f" Created: {', '.join(applied)}." if applied else ""
        return {
            "state": SKIPPED,
            "message": (
                f"Skipped {' and '.join(missing)}: the cluster does not serve "
                f"{API_GROUP_VERSION} (the Prometheus Operator's CRDs, for example from "
                "kube-prometheus-stack). The operator creates them once it does."
                f"{made}"
            ),
        }
    if applied:
        return {"state": APPLIED, "message": f"Created: {', '.join(applied)}."}
    return {"state": DISABLED, "message": "spec.monitoring asks for no monitoring objects."}


def monitoring_events(
    patch: Mapping[str, Any], status: Mapping[str, Any]
) -> list[tuple[bool, str, str]]:
    """(warning, reason, message): one Event when skipping starts, one when it ends."""
    changed = (patch.get("monitoring") or {}).get("state")
    current = status.get("monitoring") or {}
    if changed == SKIPPED:
        return [(True, "MonitoringSkipped", str(current.get("message", "")))]
    if changed == APPLIED:
        return [(False, "MonitoringApplied", str(current.get("message", "")))]
    return []
