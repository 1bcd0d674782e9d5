"""Names of the children of one SoraDeployment, derived from its own name."""

from __future__ import annotations

from sora_operator.spec import SoraDeployment


def file_server(sora: SoraDeployment) -> str:
    return f"{sora.name}-file-server"


def feedback_api(sora: SoraDeployment) -> str:
    return f"{sora.name}-feedback-api"


def database_claim(sora: SoraDeployment) -> str:
    return f"{sora.name}-feedback-db"


def ingress(sora: SoraDeployment) -> str:
    return sora.name
