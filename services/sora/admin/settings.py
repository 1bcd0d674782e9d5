"""Admin panel settings, read once from the environment at start.

``ADMIN_TOKEN`` (what people type to sign in, and what the panel sends to the
feedback API) and ``SESSION_SECRET`` (the key that signs session cookies) must
be present and strong unless ``SORA_ENV=development``; otherwise the program
stops with one line naming the variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sora.common.serve import ServerSettings
from sora_contract import layout
from sora_contract.settings import ConfigError, Env, SharedSettings, require_secret

SERVICE: Final = "sora-admin"
DEFAULT_PORT: Final = layout.ADMIN_PORT
# The feedback API's development default (sora.feedback.settings.DEV_ADMIN_TOKEN): with
# SORA_ENV=development and no ADMIN_TOKEN, both services agree without configuration.
DEV_ADMIN_TOKEN: Final = "sora-development-admin-token"  # noqa: S105 - SORA_ENV=development only
DEV_SESSION_SECRET: Final = "sora-development-session-secret"  # noqa: S105 - development only
DEFAULT_FEEDBACK_API_URL: Final = f"http://127.0.0.1:{layout.FEEDBACK_API_PORT}"
DEFAULT_FILE_SERVER_URL: Final = f"http://127.0.0.1:{layout.FILE_SERVER_PORT}"


@dataclass(frozen=True)
class UpstreamSettings:
    """Where the two APIs are, and how long the panel waits for them."""

    feedback_api_url: str
    file_server_url: str
    connect_timeout: float
    read_timeout: float

    @classmethod
    def from_env(cls, env: Env) -> UpstreamSettings:
        return cls(
            feedback_api_url=env.base_url("FEEDBACK_API_URL", DEFAULT_FEEDBACK_API_URL),
            file_server_url=env.base_url("FILE_SERVER_URL", DEFAULT_FILE_SERVER_URL),
            connect_timeout=env.number("UPSTREAM_CONNECT_TIMEOUT_SECONDS", 2.0, minimum=0.1),
            read_timeout=env.number("UPSTREAM_READ_TIMEOUT_SECONDS", 10.0, minimum=0.1),
        )


@dataclass(frozen=True)
class AdminSettings:
    shared: SharedSettings
    server: ServerSettings
    upstreams: UpstreamSettings
    admin_token: str
    session_secret: str
    session_lifetime_seconds: int

    @classmethod
    def from_env(cls, env: Env | None = None) -> AdminSettings:
        env = env or Env()
        shared = SharedSettings.from_env(env)
        admin_token = require_secret(env, "ADMIN_TOKEN", shared.environment, DEV_ADMIN_TOKEN)
        session_secret = require_secret(
            env, "SESSION_SECRET", shared.environment, DEV_SESSION_SECRET
        )
        if not shared.is_development and session_secret == admin_token:
            raise ConfigError("SESSION_SECRET must differ from ADMIN_TOKEN: use two secrets")
        return cls(
            shared=shared,
            server=ServerSettings.from_env(env, DEFAULT_PORT),
            upstreams=UpstreamSettings.from_env(env),
            admin_token=admin_token,
            session_secret=session_secret,
            session_lifetime_seconds=env.integer(
                "SESSION_LIFETIME_SECONDS", 8 * 3600, minimum=1, maximum=7 * 24 * 3600
            ),
        )
