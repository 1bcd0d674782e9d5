"""The database volume: one ReadWriteOnce claim holding feedback.db.

Without an owner reference when ``retainOnDelete`` (the default): deleting the
SoraDeployment must not delete the feedback people left. Re-creating a
SoraDeployment of the same name adopts the kept claim again.
"""

from __future__ import annotations

from typing import Any, Final

from sora_operator.builders import labels, names
from sora_operator.spec import SoraDeployment

COMPONENT: Final = "database"


def database_claim(sora_deployment: SoraDeployment) -> dict[str, Any]:
    database = sora_deployment.feedback_api.database
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": database.size}},
    }
    if database.storage_class_name:
        spec["storageClassName"] = database.storage_class_name
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": labels.metadata(
            sora_deployment,
            names.database_claim(sora_deployment),
            COMPONENT,
            owned=not database.retain_on_delete,
        ),
        "spec": spec,
    }
