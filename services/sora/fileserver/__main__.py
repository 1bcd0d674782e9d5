"""``sora-file-server``: the file server under gunicorn."""

from __future__ import annotations

from sora.common import metrics
from sora.common.serve import cli, exit_on_config_error, run_gunicorn
from sora_contract.logs import configure_logging
from sora_contract.settings import ConfigError

PROGRAM = "sora-file-server"


def main() -> int:
    from sora.fileserver.settings import DEFAULT_PORT, Settings

    cli(
        "Sora file server: the catalog of extensions and layouts, and their packages.", DEFAULT_PORT
    )
    metrics.prepare(PROGRAM)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        exit_on_config_error(PROGRAM, error)
    shared = settings.shared
    configure_logging(PROGRAM, shared.environment, shared.log_level, shared.log_format)

    from sora.fileserver.app import create_app  # defines metrics: after prepare()

    try:
        run_gunicorn(lambda: create_app(settings), settings.server.gunicorn_options())
    except ConfigError as error:
        exit_on_config_error(PROGRAM, error)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
