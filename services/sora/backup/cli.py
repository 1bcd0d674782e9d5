"""``sora-backup create | list | verify | restore | prune | replicate``.

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
from typing import Any, NoReturn

from sora.backup import decryption, operations, replication
from sora.backup.retention import BackupObject
from sora.backup.settings import BackupSettings
from sora.backup.sqlite import BackupError
from sora.backup.store import BackupStore
from sora_contract.logs import configure_logging
from sora_contract.settings import ConfigError, Env

LATEST = "latest"  # verify and restore: the newest verified backup
REPLICA = "replica"  # restore: the continuous replica's newest state
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
    verify.add_argument(
        "--decrypt",
        action="store_true",
        help="also open a sample of the comments with the key in --key-file",
    )
    verify.add_argument(
        "--key-file",
        type=Path,
        help="ENCRYPTION_KEY: the passphrase alone, KEY=value lines or a JSON object",
    )
    restore = commands.add_parser("restore", help="replace the database with a backup")
    restore.add_argument(
        "--from",
        dest="source",
        default=LATEST,
        help="'latest' (newest verified backup, the default), a key, or 'replica'"
        " (the continuous replica's newest state)",
    )
    restore.add_argument(
        "--to-time",
        metavar="RFC3339",
        help="the continuous replica's state at this moment, e.g. 2026-11-28T09:15:00Z",
    )
    prune = commands.add_parser("prune", help="delete backups past the retention")
    prune.add_argument("--dry-run", action="store_true", help="only say what would go")
    commands.add_parser(
        "replicate",
        help="run Litestream: replicate the database continuously to BACKUP_REPLICA_PREFIX",
    )
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
            if args.decrypt != (args.key_file is not None):
                raise BackupError("--decrypt and --key-file go together")
            passphrase = decryption.read_key_file(args.key_file) if args.decrypt else None
            key = store.latest_verified().key if args.key == LATEST else args.key
            backup, proof = operations.verify_decryptable(
                settings, store, key, passphrase, progress
            )
            outcome = {"result": "verified", **_describe(backup)}
            if proof is not None:
                outcome["decryption"] = proof.as_dict()
            return outcome
        case "restore" if args.to_time is not None or args.source == REPLICA:
            if args.to_time is not None and args.source not in (LATEST, REPLICA):
                raise BackupError("--to-time restores from the replica; it takes no --from KEY")
            when = replication.parse_point_in_time(args.to_time) if args.to_time else None
            point, kept = operations.restore_from_replica(settings, when)
            return {
                "result": "restored",
                **point.as_dict(),
                "previous": str(kept) if kept else None,
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


def _report(outcome: dict[str, Any], result_file: Path | None) -> None:
    text = json.dumps(outcome, default=str)
    print(text)
    if result_file:
        try:
            result_file.write_text(text[:4000])  # the kubelet keeps at most 4 KiB
        except OSError as error:
            print(f"sora-backup: cannot write {result_file}: {error}", file=sys.stderr)


def _fail(command: str, message: str, result_file: Path | None) -> NoReturn:
    _report({"result": "failed", "command": command, "error": message}, result_file)
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
        "sora-backup", settings.log_environment, settings.log_level, settings.log_format
    )
    if args.command == "replicate":
        try:
            raise SystemExit(replication.replicate(settings))
        except BackupError as error:
            _fail(args.command, str(error), settings.result_file)
    try:
        outcome = _run(args, settings)
    except BackupError as error:
        _fail(args.command, str(error), settings.result_file)
    except Exception as error:  # every failure ends in one clear line and a non-zero exit
        logging.getLogger("sora.backup").exception("unexpected error")
        _fail(args.command, f"unexpected {type(error).__name__}: {error}", settings.result_file)
    _report(outcome, settings.result_file)
