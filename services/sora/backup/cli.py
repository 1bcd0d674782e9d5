"""``sora-backup create | list | verify | restore | prune``.

Configuration comes from the environment (DATABASE_PATH, BACKUP_BUCKET,
BACKUP_PREFIX, BACKUP_STORAGE_CLASS, BACKUP_RETENTION_DAYS, S3_ENDPOINT_URL,
AWS_REGION); flags override it. The outcome is printed as one JSON object on
stdout and, when ``BACKUP_RESULT_FILE`` is set (the operator sets it to the
pod's termination-message path), written there too. Exit status: 0 success,
1 a failed operation, 2 bad configuration.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sora.backup import operations
from sora.backup.retention import BackupObject
from sora.backup.settings import BackupSettings
from sora.backup.sqlite import BackupError
from sora.backup.store import BackupStore
from sora_contract.logs import configure_logging
from sora_contract.settings import ConfigError, Env

LATEST = "latest"  # verify and restore: the newest verified backup
FLAG_VARIABLES = {
    "database": "DATABASE_PATH",
    "bucket": "BACKUP_BUCKET",
    "prefix": "BACKUP_PREFIX",
    "storage_class": "BACKUP_STORAGE_CLASS",
    "retention_days": "BACKUP_RETENTION_DAYS",
    "keep": "BACKUP_KEEP_COPIES",
    "endpoint_url": "S3_ENDPOINT_URL",
    "region": "AWS_REGION",
}


def terminal_progress(label: str, total: int) -> Callable[[int], None]:
    done = 0

    def advance(amount: int) -> None:
        nonlocal done
        done += amount
        fraction = min(1.0, done / total) if total else 1.0
        bar = "#" * int(fraction * 30)
        sys.stderr.write(f"\r{label:>9} [{bar:<30}] {fraction:6.1%}")
        if fraction >= 1.0:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return advance


def _describe(backup: BackupObject) -> dict[str, Any]:
    return {
        "key": backup.key,
        "created": backup.created.isoformat(),
        "size": backup.size,
        "rows": backup.rows,
        "schema_version": backup.schema_version,
        "sha256": backup.sha256,
        "verified": backup.verified,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sora-backup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database", help="SQLite file (DATABASE_PATH)")
    parser.add_argument("--bucket", help="S3 bucket (BACKUP_BUCKET)")
    parser.add_argument("--prefix", help="key prefix (BACKUP_PREFIX, default database/)")
    parser.add_argument("--storage-class", help="S3 storage class (BACKUP_STORAGE_CLASS)")
    parser.add_argument("--retention-days", type=int, help="BACKUP_RETENTION_DAYS (default 30)")
    parser.add_argument("--keep", type=int, help="copies always kept (BACKUP_KEEP_COPIES)")
    parser.add_argument("--endpoint-url", help="S3-compatible endpoint (S3_ENDPOINT_URL)")
    parser.add_argument("--region", help="AWS_REGION")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("create", help="snapshot, upload and verify a new backup")
    commands.add_parser("list", help="list backups, newest first")
    verify = commands.add_parser("verify", help="download a backup and check it end to end")
    verify.add_argument(
        "key",
        nargs="?",
        default=LATEST,
        help="'latest' (the backup restore --from latest would use, the default) or a key",
    )
    restore = commands.add_parser("restore", help="replace the database with a backup")
    restore.add_argument(
        "--from",
        dest="source",
        default=LATEST,
        help="'latest' (newest verified backup, the default) or a key",
    )
    prune = commands.add_parser("prune", help="delete backups past the retention")
    prune.add_argument("--dry-run", action="store_true", help="only say what would go")
    return parser


def _settings(args: argparse.Namespace) -> BackupSettings:
    overrides = {
        var: str(getattr(args, flag))
        for flag, var in FLAG_VARIABLES.items()
        if getattr(args, flag) is not None
    }
    return BackupSettings.from_env(Env({**os.environ, **overrides}))


def _run(args: argparse.Namespace, settings: BackupSettings) -> dict[str, Any]:
    store = BackupStore(settings)
    progress = terminal_progress if sys.stderr.isatty() else operations._no_progress
    match args.command:
        case "create":
            return {"result": "success", **operations.create(settings, store, progress).as_dict()}
        case "list":
            return {"backups": [_describe(b) for b in store.list()]}
        case "verify":
            key = store.latest_verified().key if args.key == LATEST else args.key
            return {
                "result": "verified",
                **_describe(operations.verify(settings, store, key, progress)),
            }
        case "restore":
            backup, kept = operations.restore(settings, store, args.source, progress)
            return {
                "result": "restored",
                **_describe(backup),
                "previous": str(kept) if kept else None,
            }
        case "prune":
            doomed = operations.prune(settings, store, dry_run=args.dry_run)
            return {"result": "pruned", "dry_run": args.dry_run, "deleted": [b.key for b in doomed]}
    raise AssertionError(args.command)


def _report(outcome: dict[str, Any]) -> None:
    text = json.dumps(outcome, default=str)
    print(text)
    result_file = os.environ.get("BACKUP_RESULT_FILE")
    if result_file:
        try:
            Path(result_file).write_text(text[:4000])  # the kubelet keeps at most 4 KiB
        except OSError as error:
            print(f"sora-backup: cannot write {result_file}: {error}", file=sys.stderr)


def _fail(command: str, message: str) -> None:
    _report({"result": "failed", "command": command, "error": message})
    print(f"sora-backup: {command} failed: {message}", file=sys.stderr)
    raise SystemExit(1)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ConfigError as error:
        print(f"sora-backup: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(
        "sora-backup",
        os.environ.get("SORA_ENV", "production"),
        os.environ.get("LOG_LEVEL", "INFO"),
        os.environ.get("LOG_FORMAT", "json"),
    )
    try:
        outcome = _run(args, settings)
    except BackupError as error:
        _fail(args.command, str(error))
    except Exception as error:  # every failure ends in one clear line and a non-zero exit
        logging.getLogger("sora.backup").exception("unexpected error")
        _fail(args.command, f"unexpected {type(error).__name__}: {error}")
    _report(outcome)
