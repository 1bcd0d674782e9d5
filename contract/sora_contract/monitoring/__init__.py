"""Shared monitoring content: alert rules and the Grafana dashboard.

Shipped as package data so the operator, the operator chart and the tests load
the same files without a copy (docs/observability.md):

* ``alert_rules(namespace, instance)``: the ``spec`` of the PrometheusRule the
  operator creates for one SoraDeployment, scoped to it;
* ``operator_alert_rules(namespace)``: the operator's own rules (its chart
  ships them);
* ``dashboard()``: the dashboard model for a Grafana sidecar ConfigMap.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from string import Template
from typing import Any, Final

import yaml

RULES_FILE: Final = "prometheus-rules.yaml"
OPERATOR_RULES_FILE: Final = "operator-rules.yaml"
DASHBOARD_FILE: Final = "grafana-dashboard.json"
#: The label the Grafana sidecar of kube-prometheus-stack looks for on ConfigMaps.
DASHBOARD_LABEL: Final = ("grafana_dashboard", "1")


def _read(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def _promql_regex(value: str) -> str:
    """``value`` matched literally by a PromQL ``=~"..."`` (regex, then string escaping)."""
    return re.escape(value).replace("\\", "\\\\")


def _rule_groups(name: str, values: dict[str, str]) -> dict[str, Any]:
    """A rules file with its ``${...}`` placeholders filled.

    ``safe_substitute``: alert templates keep their own ``$labels`` and ``$value``.
    """
    text = Template(_read(name)).safe_substitute(values)
    leftover = re.search(r"\$\{\w+\}", text)
    if leftover:
        raise ValueError(f"{name}: no value for the placeholder {leftover.group()}")
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict) or "groups" not in loaded:
        raise ValueError(f"{name} must be a mapping with 'groups'")
    return loaded


def alert_rules(namespace: str, instance: str) -> dict[str, Any]:
    """The platform's PrometheusRule ``spec`` for the SoraDeployment ``namespace/instance``.

    Also a valid Prometheus rule file (``{"groups": [...]}``).
    """
    return _rule_groups(
        RULES_FILE, {"namespace": _promql_regex(namespace), "instance": _promql_regex(instance)}
    )


def operator_alert_rules(namespace: str) -> dict[str, Any]:
    """The operator's rules, for the operator installed in ``namespace``."""
    return _rule_groups(OPERATOR_RULES_FILE, {"namespace": namespace})


def dashboard() -> dict[str, Any]:
    """The Grafana dashboard model (uses a ``datasource`` template variable)."""
    loaded = json.loads(_read(DASHBOARD_FILE))
    if not isinstance(loaded, dict):
        raise ValueError(f"{DASHBOARD_FILE} must be a JSON object")
    return loaded
