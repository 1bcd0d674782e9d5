"""Where things live inside the services image (see services/Dockerfile)."""

from __future__ import annotations

from typing import Final

RUN_AS_USER: Final = 10001  # the image's `sora` user and group
FILE_SERVER_PORT: Final = 3000
FEEDBACK_API_PORT: Final = 3001
ADMIN_PORT: Final = 3002
HTTP_PORT_NAME: Final = "http"

TMP_DIR: Final = "/tmp"  # noqa: S108 - an emptyDir mount on a read-only root filesystem
CACHE_DIR: Final = "/var/cache/sora"
CATALOG_DIR: Final = "/var/lib/sora/catalog"
DATA_DIR: Final = "/var/lib/sora"
DATABASE_PATH: Final = f"{DATA_DIR}/feedback.db"

FILE_SERVER_COMMAND: Final = "sora-file-server"
FEEDBACK_API_COMMAND: Final = "sora-feedback-api"
ADMIN_COMMAND: Final = "sora-admin"
