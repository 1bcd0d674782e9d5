"""Feedback API settings, read once from the environment at start.

Secrets (``ENCRYPTION_KEY``, ``ADMIN_TOKEN`` and the shared ``IP_SALT``) must be
present and strong unless ``SORA_ENV=development``; otherwise the program stops
with one line naming the variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sora.common.serve import ServerSettings
from sora.feedback.sqlite import SYNCHRONOUS_LEVELS
from sora_contract import layout
from sora_contract.settings import ConfigError, Env, SharedSettings, require_secret

SERVICE: Final = "sora-feedback-api"
DEFAULT_PORT: Final = layout.FEEDBACK_API_PORT
DEFAULT_FILE_SERVER_URL: Final = f"http://127.0.0.1:{layout.FILE_SERVER_PORT}"
DEV_ENCRYPTION_KEY: Final = "sora-development-encryption-key"
DEV_ADMIN_TOKEN: Final = "sora-development-admin-token"  # noqa: S105 - SORA_ENV=development only
# One worker process: it holds the database's one writer (writer.py); its threads serve.
WORKERS: Final = 1
DEFAULT_THREADS: Final = 8
# Not recycled by default: with one worker, each recycling is a pause of every request
# (drain, fork, cold caches, the catalog fetched again) where several workers covered
# for each other. WEB_MAX_REQUESTS still turns it on.
DEFAULT_MAX_REQUESTS: Final = 0


@dataclass(frozen=True)
class StorageSettings:
    database_path: Path
    synchronous: str
    busy_timeout_ms: int

    @classmethod
    def from_env(cls, env: Env) -> StorageSettings:
        return cls(
            database_path=Path(env.string("DATABASE_PATH", "data/feedback.db")),
            synchronous=env.choice("SQLITE_SYNCHRONOUS", SYNCHRONOUS_LEVELS, "full"),
            busy_timeout_ms=env.integer("SQLITE_BUSY_TIMEOUT_MS", 5000, minimum=100),
        )


@dataclass(frozen=True)
class KeySettings:
    """The current comment key, and old ones still accepted for reading."""

    current: str
    old: tuple[str, ...]

    @classmethod
    def from_env(cls, env: Env, environment: str) -> KeySettings:
        current = require_secret(env, "ENCRYPTION_KEY", environment, DEV_ENCRYPTION_KEY)
        old = tuple(key for key in env.csv("ENCRYPTION_KEYS_OLD") if key != current)
        return cls(current=current, old=old)


@dataclass(frozen=True)
class RateLimitSettings:
    """Token buckets per salted client address: ``per_minute`` refill, ``burst`` capacity."""

    enabled: bool
    submit_per_minute: float
    submit_burst: int
    read_per_minute: float
    read_burst: int
    slots: int

    @classmethod
    def from_env(cls, env: Env) -> RateLimitSettings:
        return cls(
            enabled=env.boolean("RATE_LIMIT_ENABLED", True),
            submit_per_minute=env.number("RATE_LIMIT_SUBMIT_PER_MINUTE", 30, minimum=0.001),
            submit_burst=env.integer("RATE_LIMIT_SUBMIT_BURST", 10, minimum=1),
            read_per_minute=env.number("RATE_LIMIT_READ_PER_MINUTE", 600, minimum=0.001),
            read_burst=env.integer("RATE_LIMIT_READ_BURST", 120, minimum=1),
            slots=env.integer("RATE_LIMIT_SLOTS", 65536, minimum=64, maximum=16_777_216),
        )


@dataclass(frozen=True)
class CatalogSettings:
    """Where the catalog comes from and how fresh it must be (see ``catalog.py``)."""

    file_server_url: str
    ttl_seconds: float
    max_age_seconds: float

    @classmethod
    def from_env(cls, env: Env) -> CatalogSettings:
        ttl = env.number("CATALOG_TTL_SECONDS", 30.0, minimum=0.05)
        max_age = env.number("CATALOG_MAX_AGE_SECONDS", 300.0, minimum=0.05)
        if max_age < ttl:
            raise ConfigError("CATALOG_MAX_AGE_SECONDS must be at least CATALOG_TTL_SECONDS")
        return cls(
            file_server_url=env.base_url("FILE_SERVER_URL", DEFAULT_FILE_SERVER_URL),
            ttl_seconds=ttl,
            max_age_seconds=max_age,
        )


@dataclass(frozen=True)
class FeedbackSettings:
    shared: SharedSettings
    server: ServerSettings
    storage: StorageSettings
    keys: KeySettings
    admin_token: str
    rate_limit: RateLimitSettings
    catalog: CatalogSettings

    @classmethod
    def from_env(cls, env: Env | None = None) -> FeedbackSettings:
        env = env or Env()
        shared = SharedSettings.from_env(env)
        keys = KeySettings.from_env(env, shared.environment)
        admin_token = require_secret(env, "ADMIN_TOKEN", shared.environment, DEV_ADMIN_TOKEN)
        if not shared.is_development and admin_token in (keys.current, *keys.old):
            raise ConfigError("ADMIN_TOKEN must differ from ENCRYPTION_KEY: use two secrets")
        return cls(
            shared=shared,
            server=_server_settings(env),
            storage=StorageSettings.from_env(env),
            keys=keys,
            admin_token=admin_token,
            rate_limit=RateLimitSettings.from_env(env),
            catalog=CatalogSettings.from_env(env),
        )


def _server_settings(env: Env) -> ServerSettings:
    server = ServerSettings.from_env(
        env,
        DEFAULT_PORT,
        default_workers=WORKERS,
        default_threads=DEFAULT_THREADS,
        default_max_requests=DEFAULT_MAX_REQUESTS,
    )
    if server.workers != WORKERS:
        raise ConfigError(
            f"WEB_CONCURRENCY must be {WORKERS} for the feedback API (got {server.workers}):"
            " its one worker process holds the database's one writer; set WEB_THREADS"
            " for more concurrent requests"
        )
    return server
