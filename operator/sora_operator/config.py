"""The operator's own settings, read once from the environment; flags override them.

A bad value stops the program at start with one line naming the variable.
"""

from __future__ import annotations

import argparse
import os
import socket
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from sora_contract.settings import LOG_LEVELS, ConfigError, Env
from sora_operator import __version__

PREFIX: Final = "SORA_OPERATOR_"
SERVICE_ACCOUNT_NAMESPACE: Final = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True)
class LeaseSettings:
    """client-go's leader-election timings: renew well before others may take over."""

    enabled: bool
    name: str
    namespace: str
    identity: str
    duration_seconds: float
    renew_deadline_seconds: float
    retry_period_seconds: float


@dataclass(frozen=True)
class WatchSettings:
    """Bounded watches: a stream that silently stalls is reconnected, never waited on forever."""

    server_timeout: int  # sent as the watch's timeoutSeconds, which must be whole
    client_timeout: float
    connect_timeout: float


@dataclass(frozen=True)
class OperatorConfig:
    namespaces: tuple[str, ...]  # empty: every namespace
    image_repository: str
    image_tag: str
    metrics_port: int
    liveness_endpoint: str
    resync_seconds: float
    workers: int
    kubeconfig: str | None
    log_level: str
    log_format: str
    lease: LeaseSettings
    watch: WatchSettings

    @classmethod
    def from_env(cls, env: Env | None = None) -> OperatorConfig:
        env = env or Env()
        config = cls(
            namespaces=env.csv(f"{PREFIX}NAMESPACES"),
            image_repository=env.string(f"{PREFIX}IMAGE_REPOSITORY", "sora/services"),
            image_tag=env.string(f"{PREFIX}IMAGE_TAG", __version__),
            metrics_port=env.integer(f"{PREFIX}METRICS_PORT", 9090, minimum=0, maximum=65535),
            liveness_endpoint=env.string(f"{PREFIX}LIVENESS", "http://0.0.0.0:8080/healthz"),
            resync_seconds=env.number(f"{PREFIX}RESYNC_SECONDS", 300.0, minimum=1),
            workers=env.integer(f"{PREFIX}WORKERS", 8, minimum=1, maximum=64),
            kubeconfig=env.optional("KUBECONFIG"),
            log_level=env.choice("LOG_LEVEL", LOG_LEVELS, "INFO"),
            log_format=env.choice("LOG_FORMAT", ("json", "text"), "json"),
            lease=_lease(env),
            watch=WatchSettings(
                server_timeout=env.integer(f"{PREFIX}WATCH_SERVER_TIMEOUT", 270, minimum=1),
                client_timeout=env.number(f"{PREFIX}WATCH_CLIENT_TIMEOUT", 300.0, minimum=1),
                connect_timeout=env.number(f"{PREFIX}WATCH_CONNECT_TIMEOUT", 10.0, minimum=1),
            ),
        )
        config.check()
        return config

    def with_flags(self, args: argparse.Namespace) -> OperatorConfig:
        config = self
        if args.namespace:
            config = replace(config, namespaces=tuple(args.namespace))
        if args.kubeconfig:
            config = replace(config, kubeconfig=args.kubeconfig)
        if args.metrics_port is not None:
            config = replace(config, metrics_port=args.metrics_port)
        if args.liveness:
            config = replace(config, liveness_endpoint=args.liveness)
        if args.no_leader_election:
            config = replace(config, lease=replace(config.lease, enabled=False))
        config.check()
        return config

    def check(self) -> None:
        lease = self.lease
        if not lease.retry_period_seconds < lease.renew_deadline_seconds < lease.duration_seconds:
            raise ConfigError(
                f"{PREFIX}LEASE_RETRY_PERIOD < {PREFIX}LEASE_RENEW_DEADLINE < "
                f"{PREFIX}LEASE_DURATION must hold, got {lease.retry_period_seconds}, "
                f"{lease.renew_deadline_seconds}, {lease.duration_seconds}"
            )
        if self.watch.client_timeout <= self.watch.server_timeout:
            raise ConfigError(
                f"{PREFIX}WATCH_CLIENT_TIMEOUT must exceed {PREFIX}WATCH_SERVER_TIMEOUT, so the "
                "server ends a watch before the client gives up on it"
            )
        parts = urlsplit(self.liveness_endpoint)
        if parts.scheme != "http" or not parts.port or not parts.path:
            raise ConfigError(
                f"{PREFIX}LIVENESS must look like http://0.0.0.0:8080/healthz, "
                f"got {self.liveness_endpoint!r}"
            )


def _lease(env: Env) -> LeaseSettings:
    return LeaseSettings(
        enabled=env.boolean(f"{PREFIX}LEADER_ELECTION", True),
        name=env.string(f"{PREFIX}LEASE_NAME", "sora-operator"),
        namespace=env.string(f"{PREFIX}LEASE_NAMESPACE", _own_namespace(env)),
        identity=env.string("POD_NAME", f"{socket.gethostname()}-{os.getpid()}"),
        duration_seconds=env.number(f"{PREFIX}LEASE_DURATION", 30.0, minimum=1),
        renew_deadline_seconds=env.number(f"{PREFIX}LEASE_RENEW_DEADLINE", 20.0, minimum=0.5),
        retry_period_seconds=env.number(f"{PREFIX}LEASE_RETRY_PERIOD", 5.0, minimum=0.1),
    )


def _own_namespace(env: Env) -> str:
    """The pod's namespace (downward API or the mounted token), else ``default``."""
    explicit = env.optional("POD_NAMESPACE")
    if explicit:
        return explicit
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or "default"
    except OSError:
        return "default"
