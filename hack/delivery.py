#!/usr/bin/env python3
"""The delivery names of terraform/delivery.json, resolved for one environment.

    python3 hack/delivery.py target REF   GitHub outputs (key=value) for the branch REF: where it
                                          deploys (environment= when it deploys nowhere) and that
                                          environment's names; ci.yml writes them to $GITHUB_OUTPUT
    python3 hack/delivery.py shell ENV    the same names as shell assignments, for hack/rollout.sh
    python3 hack/delivery.py json ENV     the same names as one JSON object

Terraform reads the same file (terraform/platform/locals.tf: jsondecode(file(...))), so the image
repositories, role names and Helm releases the workflow uses are the ones Terraform creates;
tests/unit/delivery checks both sides. Standard library only: CI runs it before any install.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).resolve().parents[1] / "terraform" / "delivery.json"
ENVIRONMENTS = ("dev", "staging", "prod")


def load(source: Path = SOURCE) -> dict[str, Any]:
    return dict(json.loads(source.read_text(encoding="utf-8")))


def environment_of(delivery: dict[str, Any], ref: str) -> str:
    """The environment a push to branch ``ref`` deploys to, or "" when it deploys nowhere."""
    return str(delivery["deployments"].get(ref, ""))


def names(delivery: dict[str, Any], environment: str) -> dict[str, str]:
    """Every name of one environment, as Terraform's platform root derives it."""
    if environment not in ENVIRONMENTS:
        allowed = ", ".join(ENVIRONMENTS)
        raise ValueError(f"environment must be one of {allowed}, not {environment!r}")
    prefix = f"{delivery['project']}-{environment}"
    resolved = {
        "environment": environment,
        "aws_region": delivery["aws_region"],
        "cluster_name": prefix,
        "push_role": f"{prefix}-{delivery['roles']['push']}",
        "deploy_role": f"{prefix}-{delivery['roles']['deploy']}",
    }
    for image in delivery["images"]:
        resolved[f"{image}_repository"] = f"{prefix}/{image}"
    for component, release in delivery["releases"].items():
        resolved[f"{component}_release"] = release["name"]
        resolved[f"{component}_namespace"] = release["namespace"]
        resolved[f"{component}_chart"] = release["chart"]
    return resolved


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("target", "shell", "json"):
        print(__doc__, file=sys.stderr)
        return 2
    command, argument = argv
    delivery = load()
    try:
        if command == "target":
            environment = environment_of(delivery, argument)
            resolved = names(delivery, environment) if environment else {"environment": ""}
            print("\n".join(f"{key}={value}" for key, value in resolved.items()))
        elif command == "shell":
            resolved = names(delivery, argument)
            lines = (f"{key.upper()}={shlex.quote(value)}" for key, value in resolved.items())
            print("\n".join(lines))
        else:
            print(json.dumps(names(delivery, argument), indent=2))
    except ValueError as error:
        print(f"delivery: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
