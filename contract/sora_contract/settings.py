"""Reading and validating configuration from the environment.

Every program has one settings module that builds a frozen dataclass from the
environment exactly once, at start. A bad or missing value raises
:class:`ConfigError` whose message names the variable and what is expected; the
program prints that one line and exits with status 2.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

ENVIRONMENTS: Final = ("development", "test", "production")
#: The platform environments of a SoraDeployment (spec.environment), as the operator passes them
#: in SORA_DEPLOYMENT_ENV.
DEPLOYMENT_ENVIRONMENTS: Final = ("dev", "staging", "prod")
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MIN_SECRET_LENGTH: Final = 16

_SIZE_UNITS: Final = {
    "": 1,
    "B": 1,
    "K": 1000,
    "KB": 1000,
    "KIB": 1024,
    "M": 1000**2,
    "MB": 1000**2,
    "MIB": 1024**2,
    "G": 1000**3,
    "GB": 1000**3,
    "GIB": 1024**3,
}
_SIZE_PATTERN: Final = re.compile(r"^\s*(\d+)\s*([A-Za-z]*)\s*$")


class ConfigError(Exception):
    """A setting is missing or invalid; the message is meant for a person."""


class Env:
    """Typed accessors over an environment mapping; each raises ConfigError on bad input."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        return value if value not in (None, "") else None

    def string(self, name: str, default: str | None = None) -> str:
        value = self.raw(name)
        if value is not None:
            return value
        if default is None:
            raise ConfigError(f"{name} is required")
        return default

    def optional(self, name: str) -> str | None:
        return self.raw(name)

    def integer(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
        _check_bounds(name, number, minimum, maximum)
        return number

    def number(self, name: str, default: float, *, minimum: float | None = None) -> float:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {value!r}") from None
        _check_bounds(name, number, minimum, None)
        return number

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false, got {value!r}")

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.raw(name) or default
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
        return value

    def csv(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            return default
        return tuple(item.strip() for item in value.split(",") if item.strip())

    def base_url(self, name: str, default: str) -> str:
        """An http(s) URL without query or fragment; the trailing slash is dropped."""
        value = self.string(name, default)
        parts = urlsplit(value)
        web = parts.scheme in ("http", "https") and parts.netloc
        if not web or parts.query or parts.fragment:
            raise ConfigError(f"{name} must be an http:// or https:// base URL, got {value!r}")
        return value.rstrip("/")

    def byte_size(self, name: str, default: int) -> int:
        """Sizes like ``1073741824``, ``512MiB`` or ``2G``."""
        value = self.raw(name)
        if value is None:
            return default
        try:
            return parse_byte_size(value)
        except ValueError:
            raise ConfigError(
                f"{name} must be a size such as 1073741824, 512MiB or 2GiB; got {value!r}"
            ) from None


def parse_byte_size(text: str) -> int:
    match = _SIZE_PATTERN.match(text)
    if not match or match.group(2).upper() not in _SIZE_UNITS:
        raise ValueError(text)
    return int(match.group(1)) * _SIZE_UNITS[match.group(2).upper()]


def _check_bounds(name: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {value}")


def require_secret(env: Env, name: str, environment: str, dev_default: str) -> str:
    """A secret that must be strong outside development, where a fixed default is fine."""
    value = env.raw(name)
    if environment == "development":
        return value or dev_default
    if value is None:
        raise ConfigError(f"{name} is required when SORA_ENV={environment}")
    if len(value) < MIN_SECRET_LENGTH or len(set(value)) < 6:
        raise ConfigError(
            f"{name} is too weak: use at least {MIN_SECRET_LENGTH} characters of random text"
        )
    return value


@dataclass(frozen=True)
class SharedSettings:
    """Settings every HTTP service reads (see CONTRACT.md, "Shared")."""

    environment: str
    #: The ``environment`` field of every log record (see log_environment).
    log_environment: str
    log_level: str
    log_format: str
    ip_salt: bytes
    allowed_origins: tuple[str, ...]
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @classmethod
    def from_env(cls, env: Env) -> SharedSettings:
        environment = env.choice("SORA_ENV", ENVIRONMENTS, "production")
        logs_environment, log_level, log_format = log_settings(env, environment)
        return cls(
            environment=environment,
            log_environment=logs_environment,
            log_level=log_level,
            log_format=log_format,
            ip_salt=require_secret(
                env, "IP_SALT", environment, "sora-development-ip-salt"
            ).encode(),
            allowed_origins=env.csv("ALLOWED_ORIGINS"),
            trusted_proxies=_networks(env, "TRUSTED_PROXIES"),
        )


def log_settings(env: Env, mode: str) -> tuple[str, str, str]:
    """The log records' environment (see log_environment), LOG_LEVEL and LOG_FORMAT."""
    return (
        log_environment(env, mode),
        env.choice("LOG_LEVEL", LOG_LEVELS, "INFO"),
        env.choice("LOG_FORMAT", ("json", "text"), "json"),
    )


def log_environment(env: Env, mode: str) -> str:
    """What log records name as their environment: the SoraDeployment's (dev, staging, prod;
    SORA_DEPLOYMENT_ENV, set by the operator) in a cluster, where SORA_ENV is production for
    all three; the SORA_ENV mode elsewhere."""
    if env.raw("SORA_DEPLOYMENT_ENV") is None:
        return mode
    return env.choice("SORA_DEPLOYMENT_ENV", DEPLOYMENT_ENVIRONMENTS, mode)


def _networks(env: Env, name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in env.csv(name))
    except ValueError as error:
        raise ConfigError(
            f"{name} must be comma-separated IP addresses or CIDRs: {error}"
        ) from None
