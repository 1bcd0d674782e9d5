"""The non-secret settings of each service, one ConfigMap per component.

One per component so that a change to the file server's settings rolls out the
file server only: each Deployment carries the checksum of its own ConfigMap.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

from sora_contract import layout
from sora_operator.builders import labels, names, replication
from sora_operator.builders.pods import SORA_ENV
from sora_operator.spec import LocalStorage, S3Storage, SoraDeployment

#: Where the load balancer's requests come from when the spec does not say: the
#: private ranges of the VPC, so X-Forwarded-For is trusted from the ALB only.
PRIVATE_RANGES: Final = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


def file_server_configmap(sora_deployment: SoraDeployment) -> dict[str, Any]:
    """STORAGE_* for the chosen backend, the cache, CORS and presigned redirects."""
    data = {
        **shared_settings(sora_deployment),
        "CACHE_DIR": layout.CACHE_DIR,
        "CACHE_MAX_BYTES": str(sora_deployment.file_server.cache_bytes),
        **_storage_settings(sora_deployment),
    }
    return _configmap(sora_deployment, names.file_server(sora_deployment), "file-server", data)


def feedback_api_configmap(sora_deployment: SoraDeployment) -> dict[str, Any]:
    """The database path on the volume (SQLite) and the file server whose catalog feedback
    is checked against; secrets (and PostgreSQL's DATABASE_URL) come from Secrets."""
    data = {
        **shared_settings(sora_deployment),
        "FILE_SERVER_URL": file_server_url(sora_deployment),
    }
    if not sora_deployment.feedback_api.database.is_postgresql:
        data["DATABASE_PATH"] = layout.DATABASE_PATH
    if replication.replication_container(sora_deployment) is not None:
        data["SQLITE_WAL_AUTOCHECKPOINT"] = "0"  # Litestream checkpoints (docs/backups.md)
    return _configmap(sora_deployment, names.feedback_api(sora_deployment), "feedback-api", data)


def file_server_url(sora_deployment: SoraDeployment) -> str:
    """The file server's in-cluster URL, for the services that call it."""
    return names.service_url(
        sora_deployment, names.file_server(sora_deployment), layout.FILE_SERVER_PORT
    )


def checksum(configmap: dict[str, Any]) -> str:
    """Stable digest of a ConfigMap's data, put on pod templates so changes roll out."""
    encoded = json.dumps(configmap.get("data", {}), sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()


def shared_settings(sora_deployment: SoraDeployment) -> dict[str, str]:
    """What every service reads; the admin panel gets these in its pod's env (admin.py)."""
    return {
        "SORA_ENV": SORA_ENV,
        # The real environment in every log record (SORA_ENV is production everywhere).
        "SORA_DEPLOYMENT_ENV": sora_deployment.environment,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "ALLOWED_ORIGINS": ",".join(sora_deployment.file_server.allowed_origins),
        "TRUSTED_PROXIES": ",".join(sora_deployment.ingress.source_cidrs or PRIVATE_RANGES),
    }


def _storage_settings(sora_deployment: SoraDeployment) -> dict[str, str]:
    storage = sora_deployment.file_server.storage
    if isinstance(storage, LocalStorage):
        return {"STORAGE_BACKEND": "local", "STORAGE_DIR": layout.CATALOG_DIR}
    return {"STORAGE_BACKEND": "s3", **_s3_settings(storage, sora_deployment)}


def _s3_settings(storage: S3Storage, sora_deployment: SoraDeployment) -> dict[str, str]:
    redirects = sora_deployment.file_server.presigned_redirects
    data = {
        "S3_BUCKET": storage.bucket,
        "S3_PREFIX": storage.prefix,
        "S3_REDIRECT_MIN_BYTES": str(redirects.min_bytes if redirects.enabled else 0),
        "S3_REDIRECT_TTL_SECONDS": str(redirects.ttl_seconds),
    }
    if storage.region:
        data["AWS_REGION"] = storage.region
    if storage.endpoint:
        data["S3_ENDPOINT_URL"] = storage.endpoint
    return data


def _configmap(
    sora_deployment: SoraDeployment, name: str, component: str, data: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": labels.metadata(sora_deployment, name, component),
        "data": data,
    }
