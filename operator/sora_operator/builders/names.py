"""Names of the children of one SoraDeployment, derived from its own name."""

from __future__ import annotations

from sora_operator.spec import SoraDeployment


def file_server(sora: SoraDeployment) -> str:
    return f"{sora.name}-file-server"


def feedback_api(sora: SoraDeployment) -> str:
    return f"{sora.name}-feedback-api"


def admin(sora: SoraDeployment) -> str:
    return f"{sora.name}-admin"


def service_url(sora: SoraDeployment, service: str, port: int) -> str:
    """The in-cluster URL of one of this SoraDeployment's Services."""
    return f"http://{service}.{sora.namespace}.svc:{port}"


def database_claim(sora: SoraDeployment) -> str:
    return f"{sora.name}-feedback-db"


def ingress(sora: SoraDeployment) -> str:
    return sora.name


def prometheus_rule(sora: SoraDeployment) -> str:
    return sora.name


def dashboard(sora: SoraDeployment) -> str:
    return f"{sora.name}-dashboard"
