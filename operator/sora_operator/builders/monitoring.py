"""What Prometheus and Grafana need for one SoraDeployment (spec.monitoring).

* a ServiceMonitor per service (the admin panel's too, when it runs), scraping
  ``/metrics`` on its ``http`` port. Its
  ``job`` label is the Service name, which is what the alert rules scope on;
* a PrometheusRule with the platform's alerts, scoped to this SoraDeployment's
  namespace and name (sora_contract.monitoring.alert_rules), so two platforms in one
  cluster never raise each other's alerts;
* a ConfigMap holding the Grafana dashboard, labelled for the Grafana sidecar,
  with its own uid and title and the namespace preselected.

The first two need the Prometheus Operator's CRDs; the reconcile skips them when
the cluster does not serve monitoring.coreos.com (reconcile.py). The operator's
own ServiceMonitor and alerts come with its chart: one operator serves many
SoraDeployments.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any, Final

from sora_contract import layout
from sora_contract.monitoring import DASHBOARD_LABEL, alert_rules, dashboard
from sora_operator.builders import labels, names
from sora_operator.monitoring import API_GROUP_VERSION
from sora_operator.spec import SoraDeployment

COMPONENT: Final = "monitoring"
METRICS_PATH: Final = "/metrics"
#: The annotation kube-prometheus-stack's sidecar reads a dashboard's folder from
#: (sidecar.dashboards.folderAnnotation).
FOLDER_ANNOTATION: Final = "grafana_folder"


def service_monitors(sora_deployment: SoraDeployment) -> list[dict[str, Any]]:
    """One per service, named as its Service (none when switched off).

    The admin panel's only while it runs: its metrics are scraped like the others'.
    """
    if not sora_deployment.monitoring.service_monitors:
        return []
    monitors = [
        _service_monitor(sora_deployment, names.file_server(sora_deployment), "file-server"),
        _service_monitor(sora_deployment, names.feedback_api(sora_deployment), "feedback-api"),
    ]
    if sora_deployment.admin.enabled:
        monitors.append(_service_monitor(sora_deployment, names.admin(sora_deployment), "admin"))
    return monitors


def service_monitor_names(sora_deployment: SoraDeployment) -> list[str]:
    """Every ServiceMonitor name this SoraDeployment may have (to delete when off)."""
    return [
        names.file_server(sora_deployment),
        names.feedback_api(sora_deployment),
        names.admin(sora_deployment),
    ]


def _service_monitor(
    sora_deployment: SoraDeployment, service: str, component: str
) -> dict[str, Any]:
    monitoring = sora_deployment.monitoring
    return {
        "apiVersion": API_GROUP_VERSION,
        "kind": "ServiceMonitor",
        "metadata": _metadata(sora_deployment, service, component),
        "spec": {
            "selector": {"matchLabels": labels.selector_labels(sora_deployment, component)},
            "namespaceSelector": {"matchNames": [sora_deployment.namespace]},
            "endpoints": [
                {
                    "port": layout.HTTP_PORT_NAME,
                    "path": METRICS_PATH,
                    "interval": monitoring.scrape_interval,
                    "scrapeTimeout": monitoring.scrape_timeout,
                }
            ],
        },
    }


def prometheus_rule(sora_deployment: SoraDeployment) -> dict[str, Any] | None:
    if not sora_deployment.monitoring.prometheus_rule:
        return None
    return {
        "apiVersion": API_GROUP_VERSION,
        "kind": "PrometheusRule",
        "metadata": _metadata(sora_deployment, names.prometheus_rule(sora_deployment), COMPONENT),
        "spec": alert_rules(sora_deployment.namespace, sora_deployment.name),
    }


def dashboard_configmap(sora_deployment: SoraDeployment) -> dict[str, Any] | None:
    if not sora_deployment.monitoring.dashboard:
        return None
    folder = sora_deployment.monitoring.dashboard_folder
    metadata = labels.metadata(
        sora_deployment,
        names.dashboard(sora_deployment),
        COMPONENT,
        annotations={FOLDER_ANNOTATION: folder} if folder else None,
    )
    metadata["labels"][DASHBOARD_LABEL[0]] = DASHBOARD_LABEL[1]
    model = platform_dashboard(sora_deployment)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": {f"{model['uid']}.json": json.dumps(model, indent=1, sort_keys=True)},
    }


def platform_dashboard(sora_deployment: SoraDeployment) -> dict[str, Any]:
    """The shared dashboard, made this SoraDeployment's: uid, title, namespace chosen.

    Grafana keys dashboards by uid: two platforms sharing one would overwrite each
    other. The uid is a digest of namespace/name, within Grafana's 40 characters.
    """
    model = copy.deepcopy(dashboard())
    digest = hashlib.sha256(
        f"{sora_deployment.namespace}/{sora_deployment.name}".encode()
    ).hexdigest()[:16]
    model["uid"] = f"sora-{digest}"
    model["title"] = f"Sora {sora_deployment.namespace}/{sora_deployment.name}"
    for variable in model.get("templating", {}).get("list", []):
        if variable.get("name") == "namespace":
            variable["current"] = {
                "text": [sora_deployment.namespace],
                "value": [sora_deployment.namespace],
            }
    return model


def _metadata(sora_deployment: SoraDeployment, name: str, component: str) -> dict[str, Any]:
    metadata = labels.metadata(sora_deployment, name, component)
    metadata["labels"] = {**sora_deployment.monitoring.labels, **metadata["labels"]}
    return metadata
