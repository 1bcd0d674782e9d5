#!/usr/bin/env python3
"""Keep the charts' generated parts in step with their sources.

    .venv/bin/python hack/chart-sync.py            # rewrite what is stale
    .venv/bin/python hack/chart-sync.py --check    # exit 1 naming what is stale (tests run it)

* charts/sora/values.schema.json: the spec sections (environment, image, fileServer, ...)
  are the CRD's openAPIV3Schema (crds/) turned into JSON Schema for values: every scalar
  may also be null ("not set": the operator's default applies), objects refuse unknown
  keys except where the CRD keeps them (x-kubernetes-preserve-unknown-fields), quantities
  are integer-or-string with the CRD's pattern. The chart's own keys are kept as written.
* charts/*/README.md: the values table between `<!-- values:start -->` and
  `<!-- values:end -->`, from values.yaml and its `# --` comments (helm-docs style).

The CRD and the operator's RBAC need no copy: the operator chart links to them (files/).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CRD = ROOT / "crds" / "sora.example.com_soradeployments.yaml"
PLATFORM_SCHEMA = ROOT / "charts" / "sora" / "values.schema.json"
READMES = [ROOT / "charts" / "sora-operator", ROOT / "charts" / "sora"]
KEEP = (
    "description",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "maxLength",
    "minLength",
    "maxItems",
)
START, END = "<!-- values:start -->", "<!-- values:end -->"


def _convert(node: dict[str, Any]) -> dict[str, Any]:
    if node.get("x-kubernetes-int-or-string"):
        return {
            "description": node.get("description", ""),
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": node["pattern"]},
                {"type": "null"},
            ],
        }
    out: dict[str, Any] = {k: node[k] for k in KEEP if k in node}
    kind = node.get("type")
    if kind == "object":
        out["type"] = "object"
        if "properties" in node:
            out["properties"] = {k: _convert(v) for k, v in node["properties"].items()}
            out["additionalProperties"] = bool(node.get("x-kubernetes-preserve-unknown-fields"))
        elif isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = {"type": "string"}
        else:
            out["additionalProperties"] = True
    elif kind == "array":
        item = _convert(node["items"])
        if isinstance(item.get("type"), list):
            item["type"] = item["type"][0]
            if "enum" in item:
                item["enum"] = [v for v in item["enum"] if v is not None]
        out["type"] = "array"
        out["items"] = item
    elif kind in ("string", "integer", "boolean"):
        out["type"] = [kind, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def spec_sections() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    sections = {name: _convert(node) for name, node in spec["properties"].items()}
    environment = sections["environment"]
    environment["type"] = "string"
    environment["enum"] = [v for v in environment["enum"] if v is not None]
    environment["description"] = (
        "spec.environment: dev, staging or prod; chooses the operator's defaults "
        "(replicas, CPU, memory, volume size, retention)."
    )
    for name, section in sections.items():
        if name != "environment":
            section["description"] = (
                f"spec.{name}, passed through to the SoraDeployment (docs/crd.md). "
                + section.get("description", "")
            )
    # The CRD says this with CEL; in values it can be said in JSON Schema, so it fails early.
    storage = sections.get("fileServer", {}).get("properties", {}).get("storage")
    if storage is not None:
        storage["if"] = {"properties": {"type": {"const": "s3"}}, "required": ["type"]}
        storage["then"] = {
            "required": ["s3"],
            "properties": {
                "s3": {"required": ["bucket"], "properties": {"bucket": {"type": "string"}}}
            },
        }
    return sections


def platform_schema() -> str:
    current = json.loads(PLATFORM_SCHEMA.read_text())
    sections = spec_sections()
    chart_keys = {k: v for k, v in current["properties"].items() if k not in sections}
    naming = ("nameOverride", "fullnameOverride", "commonLabels", "commonAnnotations")
    before = {k: v for k, v in chart_keys.items() if k in naming}
    after = {k: v for k, v in chart_keys.items() if k not in before}
    current["properties"] = {**before, **sections, **after}
    return json.dumps(current, indent=2) + "\n"


def _lookup(values: Any, keys: list[str]) -> Any:
    for key in keys:
        values = values[key]
    return values


def values_table(values_file: Path) -> str:
    """helm-docs style: one row per key that has a `# --` comment or is a leaf."""
    values = yaml.safe_load(values_file.read_text())
    rows: list[str] = []
    stack: list[tuple[int, str]] = []
    pending: list[str] = []
    collecting = False
    for line in values_file.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending, collecting = [stripped[4:].strip()], True
            continue
        if stripped.startswith("#"):
            text = stripped[1:].strip()
            if collecting and text and not text.startswith(("requests:", "limits:")):
                pending.append(text)
            continue
        if not stripped:
            collecting = False
            continue
        match = re.match(r"^(\s*)([A-Za-z0-9_]+):", line)
        if not match:
            continue
        indent, key = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        keys = [k for _, k in stack] + [key]
        try:
            value = _lookup(values, keys)
        except (KeyError, TypeError):  # a key inside a list item
            continue
        stack.append((indent, key))
        if pending or not isinstance(value, dict) or value == {}:
            shown = f"`{value}`" if isinstance(value, str) and value else f"`{json.dumps(value)}`"
            if isinstance(value, (dict, list)) and value and len(shown) > 60:
                shown = "see values.yaml"
            rows.append(f"| `{'.'.join(keys)}` | {shown} | {' '.join(pending)} |")
        pending, collecting = [], False
    return "\n".join(["| Key | Default | Description |", "| --- | --- | --- |", *rows])


def readme(chart: Path) -> str:
    text = (chart / "README.md").read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{chart / 'README.md'}: markers {START} / {END} are missing")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{values_table(chart / 'values.yaml')}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args()
    wanted = {PLATFORM_SCHEMA: platform_schema()}
    wanted.update({chart / "README.md": readme(chart) for chart in READMES})
    stale = [path for path, text in wanted.items() if path.read_text() != text]
    for path in stale:
        if args.check:
            print(f"{path.relative_to(ROOT)} is stale: run .venv/bin/python hack/chart-sync.py")
        else:
            path.write_text(wanted[path])
            print(f"updated {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
