"""Shared monitoring content: the PrometheusRule spec and the Grafana dashboard.

Shipped as package data so the operator (and anything else) can load them
without a copy: ``alert_rules()`` is the ``spec`` of a PrometheusRule,
``dashboard()`` the dashboard model for a Grafana sidecar ConfigMap. See
docs/observability.md.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Final

import yaml

RULES_FILE: Final = "prometheus-rules.yaml"
DASHBOARD_FILE: Final = "grafana-dashboard.json"
#: The label the Grafana sidecar of kube-prometheus-stack looks for on ConfigMaps.
DASHBOARD_LABEL: Final = ("grafana_dashboard", "1")


def _read(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def alert_rules() -> dict[str, Any]:
    """The PrometheusRule ``spec`` (``{"groups": [...]}``); also a valid Prometheus rule file."""
    loaded = yaml.safe_load(_read(RULES_FILE))
    if not isinstance(loaded, dict) or "groups" not in loaded:
        raise ValueError(f"{RULES_FILE} must be a mapping with 'groups'")
    return loaded


def dashboard() -> dict[str, Any]:
    """The Grafana dashboard model (uses a ``datasource`` template variable)."""
    loaded = json.loads(_read(DASHBOARD_FILE))
    if not isinstance(loaded, dict):
        raise ValueError(f"{DASHBOARD_FILE} must be a JSON object")
    return loaded
