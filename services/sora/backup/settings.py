"""Configuration of ``sora-backup``, read once from the environment (flags override)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sora_contract.settings import ConfigError, Env

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

    @classmethod
    def from_env(cls, env: Env) -> BackupSettings:
        prefix = env.string("BACKUP_PREFIX", "database/")
        if prefix.startswith("/") or ".." in prefix.split("/"):
            raise ConfigError(f"BACKUP_PREFIX must be a relative key prefix, got {prefix!r}")
        work_dir = env.optional("BACKUP_WORK_DIR")
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
        )
