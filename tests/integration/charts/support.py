"""Helpers for the chart tests: where things are, running helm, reading rendered output."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
CHARTS = REPO_ROOT / "charts"
OPERATOR_CHART = CHARTS / "sora-operator"
PLATFORM_CHART = CHARTS / "sora"
CRD_PATH = REPO_ROOT / "crds" / "sora.example.com_soradeployments.yaml"
RBAC_PATH = REPO_ROOT / "operator" / "sora_operator" / "rbac.yaml"
CHECKOV = REPO_ROOT / "hack" / "checkov.sh"

#: Labels and annotations the operator chart adds to the CRD from crds/ (nothing else differs).
CHART_CRD_LABELS = frozenset(
    {
        "helm.sh/chart",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/version",
        "app.kubernetes.io/component",
        "app.kubernetes.io/managed-by",
    }
)


def example_files(chart: Path) -> list[Path]:
    return sorted((chart / "examples").glob("*.yaml"))


def values_cases() -> list[tuple[Path, Path | None]]:
    """Every (chart, values file) pair the checks cover: defaults, then each example."""
    cases: list[tuple[Path, Path | None]] = []
    for chart in (OPERATOR_CHART, PLATFORM_CHART):
        cases.append((chart, None))
        cases.extend((chart, example) for example in example_files(chart))
    return cases


def case_id(case: tuple[Path, Path | None]) -> str:
    chart, values = case
    return f"{chart.name}:{values.stem if values else 'defaults'}"


@dataclass(frozen=True)
class Helm:
    """The pinned helm binary, with its own HELM_*_HOME (no repositories needed)."""

    binary: Path
    home: Path

    def run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environment = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.home),
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
            **(env or {}),
        }
        proc = subprocess.run(
            [str(self.binary), *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def template(
        self, chart: Path, *args: str, release: str = "sora", namespace: str = "sora"
    ) -> str:
        return self.run("template", release, str(chart), "--namespace", namespace, *args).stdout


def values_args(values: Path | None) -> list[str]:
    return ["--values", str(values)] if values else []


def documents(rendered: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def of_kind(docs: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc.get("kind") == kind]


def one(docs: Iterable[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in of_kind(docs, kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def rbac_documents() -> dict[str, dict[str, Any]]:
    """operator/sora_operator/rbac.yaml by kind (one ClusterRole, one Role)."""
    return {doc["kind"]: doc for doc in yaml.safe_load_all(RBAC_PATH.read_text()) if doc}


def normalized_rules(rules: Sequence[dict[str, Any]]) -> list[tuple[tuple[str, ...], ...]]:
    """Rules as sorted tuples: order inside a rule and between rules carries no meaning."""
    return sorted(
        (
            tuple(sorted(rule.get("apiGroups", []))),
            tuple(sorted(rule.get("resources", []))),
            tuple(sorted(rule.get("verbs", []))),
            tuple(sorted(rule.get("resourceNames", []))),
        )
        for rule in rules
    )
