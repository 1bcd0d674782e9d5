"""The file server's configuration, read once from the environment at start."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from sora.common.serve import ServerSettings
from sora_contract import layout
from sora_contract.settings import ConfigError, Env, SharedSettings

DEFAULT_PORT: Final = layout.FILE_SERVER_PORT
#: One access log line per this many successful catalog reads (listings and manifests),
#: per worker process; see docs/observability.md. 1 logs every read.
DEFAULT_ACCESS_LOG_READ_SAMPLING: Final = 10
BACKENDS: Final = ("local", "s3")


@dataclass(frozen=True)
class Settings:
    shared: SharedSettings
    server: ServerSettings
    storage_backend: str
    storage_dir: Path
    s3_bucket: str | None
    s3_prefix: str
    aws_region: str | None
    s3_endpoint_url: str | None
    cache_dir: Path
    cache_max_bytes: int
    catalog_ttl_seconds: float
    # Packages at least this large are answered with a redirect to a presigned
    # S3 URL instead of passing through Python; 0 turns redirects off.
    redirect_min_bytes: int
    redirect_ttl_seconds: int
    access_log_read_sampling: int

    @classmethod
    def from_env(cls, env: Env | None = None) -> Settings:
        env = env or Env()
        backend = env.choice("STORAGE_BACKEND", BACKENDS, "local")
        settings = cls(
            shared=SharedSettings.from_env(env),
            server=ServerSettings.from_env(env, DEFAULT_PORT),
            storage_backend=backend,
            storage_dir=Path(env.string("STORAGE_DIR", "data/catalog")),
            s3_bucket=env.optional("S3_BUCKET"),
            s3_prefix=_prefix(env.string("S3_PREFIX", "")),
            aws_region=env.optional("AWS_REGION"),
            s3_endpoint_url=_url(env, "S3_ENDPOINT_URL"),
            cache_dir=Path(env.string("CACHE_DIR", "data/cache")),
            cache_max_bytes=env.byte_size("CACHE_MAX_BYTES", 1024**3),
            catalog_ttl_seconds=env.number("CATALOG_TTL_SECONDS", 30.0, minimum=0),
            redirect_min_bytes=env.byte_size("S3_REDIRECT_MIN_BYTES", 0),
            redirect_ttl_seconds=env.integer(
                "S3_REDIRECT_TTL_SECONDS", 300, minimum=1, maximum=7 * 24 * 3600
            ),
            access_log_read_sampling=env.integer(
                "ACCESS_LOG_READ_SAMPLING", DEFAULT_ACCESS_LOG_READ_SAMPLING, minimum=1
            ),
        )
        settings._check_backend()
        return settings

    def _check_backend(self) -> None:
        if self.storage_backend == "s3":
            if not self.s3_bucket:
                raise ConfigError("S3_BUCKET is required when STORAGE_BACKEND=s3")
            return
        if not self.storage_dir.is_dir():
            raise ConfigError(f"STORAGE_DIR must be an existing directory, got {self.storage_dir}")
        if self.redirect_min_bytes:
            raise ConfigError("S3_REDIRECT_MIN_BYTES needs STORAGE_BACKEND=s3")


def _prefix(value: str) -> str:
    """``""`` or a key prefix ending in ``/``; no leading slash, no ``..`` segments."""
    prefix = value.strip("/")
    if not prefix:
        return ""
    if any(part in ("", ".", "..") for part in prefix.split("/")):
        raise ConfigError(
            f"S3_PREFIX must be a plain key prefix such as sora/catalog, got {value!r}"
        )
    return prefix + "/"


def _url(env: Env, name: str) -> str | None:
    value = env.optional(name)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http:// or https:// URL, got {value!r}")
    return value
