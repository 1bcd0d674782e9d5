"""Configuration of ``sora-backup``, read once from the environment (flags override)."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sora_contract import layout
from sora_contract.settings import ENVIRONMENTS, ConfigError, Env, log_settings

STORAGE_CLASSES: Final = (
    "STANDARD",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "REDUCED_REDUNDANCY",
)


@dataclass(frozen=True)
class BackupSettings:
    database_path: Path
    bucket: str
    prefix: str
    name: str
    storage_class: str
    retention_days: int
    keep_copies: int
    endpoint_url: str | None
    region: str | None
    compression_level: int
    work_dir: Path | None
    replica_prefix: str  # where Litestream replicates continuously (its own prefix)
    litestream_bin: str
    replication_metrics_port: int
    replication_probe_seconds: float
    log_environment: str  # the ``environment`` field of log records
    log_level: str
    log_format: str
    #: Where the outcome goes too (the Job's terminationMessagePath), if set.
    result_file: Path | None

    @classmethod
    def from_env(cls, env: Env) -> BackupSettings:
        prefix = env.string("BACKUP_PREFIX", "database/")
        if prefix.startswith("/") or ".." in prefix.split("/"):
            raise ConfigError(f"BACKUP_PREFIX must be a relative key prefix, got {prefix!r}")
        work_dir = env.optional("BACKUP_WORK_DIR")
        result_file = env.optional("BACKUP_RESULT_FILE")
        logs_environment, log_level, log_format = log_settings(
            env, env.choice("SORA_ENV", ENVIRONMENTS, "production")
        )
        replica_prefix = env.string("BACKUP_REPLICA_PREFIX", "replica/").strip("/")
        if not replica_prefix or ".." in replica_prefix.split("/"):
            raise ConfigError(
                "BACKUP_REPLICA_PREFIX must be a non-empty relative key prefix,"
                f" got {replica_prefix!r}"
            )
        if prefix and (
            (replica_prefix + "/").startswith(prefix) or prefix.startswith(replica_prefix + "/")
        ):
            raise ConfigError(
                f"BACKUP_REPLICA_PREFIX {replica_prefix!r} and BACKUP_PREFIX {prefix!r} overlap;"
                " the replica needs a prefix of its own"
            )
        return cls(
            database_path=Path(env.string("DATABASE_PATH", "data/feedback.db")),
            bucket=env.string("BACKUP_BUCKET"),
            prefix=prefix if prefix.endswith("/") or not prefix else prefix + "/",
            name=env.string("BACKUP_NAME", "sora-feedback"),
            storage_class=env.choice("BACKUP_STORAGE_CLASS", STORAGE_CLASSES, "STANDARD_IA"),
            retention_days=env.integer("BACKUP_RETENTION_DAYS", 30, minimum=0),
            keep_copies=env.integer("BACKUP_KEEP_COPIES", 1, minimum=1),
            endpoint_url=env.optional("S3_ENDPOINT_URL"),
            region=env.optional("AWS_REGION"),
            compression_level=env.integer("BACKUP_COMPRESSION_LEVEL", 6, minimum=1, maximum=9),
            work_dir=Path(work_dir) if work_dir else None,
            replica_prefix=replica_prefix,
            litestream_bin=env.string("LITESTREAM_BIN", _bundled_litestream()),
            replication_metrics_port=env.integer(
                "REPLICATION_METRICS_PORT",
                layout.REPLICATION_METRICS_PORT,
                minimum=1,
                maximum=65535,
            ),
            replication_probe_seconds=env.number("REPLICATION_PROBE_SECONDS", 5.0, minimum=0.1),
            log_environment=logs_environment,
            log_level=log_level,
            log_format=log_format,
            result_file=Path(result_file) if result_file else None,
        )


def _bundled_litestream() -> str:
    """The binary litestream-bin installs beside this interpreter (the services image)."""
    beside = Path(sys.executable).with_name("litestream")
    return str(beside) if beside.exists() else shutil.which("litestream") or "litestream"
