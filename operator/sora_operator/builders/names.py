"""Names of the children of one SoraDeployment, derived from its own name."""

from __future__ import annotations

from sora_operator.spec import SoraDeployment


def file_server(sora_deployment: SoraDeployment) -> str:
    return f"{sora_deployment.name}-file-server"


def feedback_api(sora_deployment: SoraDeployment) -> str:
    return f"{sora_deployment.name}-feedback-api"


def admin(sora_deployment: SoraDeployment) -> str:
    return f"{sora_deployment.name}-admin"


def service_url(sora_deployment: SoraDeployment, service: str, port: int) -> str:
    """The in-cluster URL of one of this SoraDeployment's Services."""
    return f"http://{service}.{sora_deployment.namespace}.svc:{port}"


def database_claim(sora_deployment: SoraDeployment) -> str:
    return f"{sora_deployment.name}-feedback-db"


def ingress(sora_deployment: SoraDeployment) -> str:
    return sora_deployment.name


def prometheus_rule(sora_deployment: SoraDeployment) -> str:
    return sora_deployment.name


def dashboard(sora_deployment: SoraDeployment) -> str:
    return f"{sora_deployment.name}-dashboard"
