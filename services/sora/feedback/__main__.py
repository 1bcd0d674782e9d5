"""``sora-feedback-api``: serve (default), migrate, reencrypt, recount.

Configuration comes from the environment (docs/feedback-api.md); a missing or
weak setting stops the program with one line naming the variable.
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from typing import Final

from sora.common import metrics
from sora.common.serve import exit_on_config_error
from sora.feedback.schema_migrations import SchemaError
from sora.feedback.settings import (
    DEFAULT_PORT,
    SERVICE,
    FeedbackSettings,
    KeySettings,
    StorageSettings,
)
from sora.feedback.sqlite import SQLiteStore, prepare_database
from sora_contract.logs import configure_logging
from sora_contract.settings import ConfigError, Env, SharedSettings

# No --workers: the API runs one worker process (settings.WORKERS), with WEB_THREADS threads.
_FLAGS: Final = (("host", "HOST"), ("port", "PORT"))


def _parser() -> argparse.ArgumentParser:
    server = argparse.ArgumentParser(add_help=False)
    server.add_argument("--host", default=argparse.SUPPRESS, help="listen address (HOST)")
    server.add_argument(
        "--port", type=int, default=argparse.SUPPRESS, help=f"port (PORT, {DEFAULT_PORT})"
    )
    parser = argparse.ArgumentParser(
        prog=SERVICE,
        description="Sora feedback API: feedback, recommendations and statistics on SQLite.",
        parents=[server],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", parents=[server], help="run the API under gunicorn (default)")
    commands.add_parser("migrate", help="apply pending schema migrations to DATABASE_PATH")
    rotate = commands.add_parser(
        "reencrypt",
        help="re-encrypt comments under ENCRYPTION_KEY (old keys from ENCRYPTION_KEYS_OLD)",
    )
    rotate.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    commands.add_parser("recount", help="rebuild every aggregate from the feedback rows")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    for flag, variable in _FLAGS:
        if hasattr(args, flag):
            os.environ[variable] = str(getattr(args, flag))
    try:
        _run(args.command or "serve", args, Env())
    except ConfigError as error:
        exit_on_config_error(SERVICE, error)


def _run(command: str, args: argparse.Namespace, env: Env) -> None:
    if command == "serve":
        settings = FeedbackSettings.from_env(env)
        metrics.prepare(SERVICE)  # before anything imports the metric definitions
        _serve(settings)
        return
    shared = SharedSettings.from_env(env)
    configure_logging(SERVICE, shared.environment, shared.log_level, shared.log_format)
    storage = StorageSettings.from_env(env)
    _prepare(storage)
    if command == "reencrypt":
        _reencrypt(storage, KeySettings.from_env(env, shared.environment), args.batch_size)
    elif command == "recount":
        _store(storage).recount()
        print(f"{SERVICE}: aggregates rebuilt from the feedback rows")


def _prepare(storage: StorageSettings, report: Callable[[str], None] = print) -> None:
    """Apply pending migrations, or stop with one line saying why not."""
    try:
        applied = prepare_database(
            storage.database_path,
            synchronous=storage.synchronous,
            busy_timeout_ms=storage.busy_timeout_ms,
        )
    except (OSError, sqlite3.Error, SchemaError) as error:
        print(f"{SERVICE}: DATABASE_PATH={storage.database_path}: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    for migration in applied:
        report(f"{SERVICE}: applied migration {migration.version:03d}_{migration.name}")


def _store(storage: StorageSettings) -> SQLiteStore:
    return SQLiteStore(
        storage.database_path,
        synchronous=storage.synchronous,
        busy_timeout_ms=storage.busy_timeout_ms,
    )


def _reencrypt(storage: StorageSettings, keys: KeySettings, batch_size: int) -> None:
    from sora.feedback import domain
    from sora.feedback.crypto import Keyring

    store = _store(storage)
    report = domain.reencrypt(store, Keyring(keys.current, keys.old), max(1, batch_size))
    print(
        f"{SERVICE}: examined {report.examined} comments under old keys,"
        f" re-encrypted {report.rotated}, unreadable {len(report.failed)}"
    )
    if report.failed:
        print(
            f"{SERVICE}: no configured key opens feedback ids {report.failed[:20]}"
            " - add the key they were written with to ENCRYPTION_KEYS_OLD",
            file=sys.stderr,
        )
        raise SystemExit(1)


def _serve(settings: FeedbackSettings) -> None:
    from sora.common.serve import run_gunicorn
    from sora.feedback.app import create_app, open_store

    configure_logging(
        SERVICE, settings.shared.environment, settings.shared.log_level, settings.shared.log_format
    )
    _prepare(settings.storage, logging.getLogger("sora.feedback").info)
    store = open_store(settings)

    def worker_exit(arbiter: object, worker: object) -> None:
        store.close()  # commits and answers the writes still queued (writer.py)

    options = {**settings.server.gunicorn_options(), "worker_exit": worker_exit}
    run_gunicorn(lambda: create_app(settings, store=store), options)


if __name__ == "__main__":
    main()
