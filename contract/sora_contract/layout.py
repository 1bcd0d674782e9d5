"""The services' ports and where things live inside the services image.

Each service's default ``PORT``, the operator's Services and probes, ``sora up``
and the local gateway take their ports from here; ``services/Dockerfile``
(``EXPOSE``, ``ENV``, the ``sora`` user, the directories) is compared to this
module by ``tests/unit/contract/test_dockerfiles.py``.
"""

from __future__ import annotations

from typing import Final

RUN_AS_USER: Final = 10001  # the image's `sora` user and group
FILE_SERVER_PORT: Final = 3000
FEEDBACK_API_PORT: Final = 3001
ADMIN_PORT: Final = 3002
#: ``sora up``'s gateway, in front of the three (the seed's nginx).
GATEWAY_PORT: Final = 8080
HTTP_PORT_NAME: Final = "http"

TMP_DIR: Final = "/tmp"  # noqa: S108 - an emptyDir mount on a read-only root filesystem
CACHE_DIR: Final = "/var/cache/sora"
CATALOG_DIR: Final = "/var/lib/sora/catalog"
DATA_DIR: Final = "/var/lib/sora"
DATABASE_PATH: Final = f"{DATA_DIR}/feedback.db"

FILE_SERVER_COMMAND: Final = "sora-file-server"
FEEDBACK_API_COMMAND: Final = "sora-feedback-api"
ADMIN_COMMAND: Final = "sora-admin"
