"""``sora-admin``: the admin panel under gunicorn."""

from __future__ import annotations

from sora.common import metrics
from sora.common.serve import cli, exit_on_config_error, run_gunicorn
from sora_contract.logs import configure_logging
from sora_contract.settings import ConfigError

PROGRAM = "sora-admin"


def main() -> int:
    from sora.admin.settings import DEFAULT_PORT, AdminSettings

    cli(
        "Sora admin panel: sign in with the admin token to moderate feedback, read the"
        " statistics and look through the catalog (served under /admin).",
        DEFAULT_PORT,
    )
    metrics.prepare(PROGRAM)
    try:
        settings = AdminSettings.from_env()
    except ConfigError as error:
        exit_on_config_error(PROGRAM, error)
    shared = settings.shared
    configure_logging(PROGRAM, shared.environment, shared.log_level, shared.log_format)

    from sora.admin.app import create_app  # defines metrics: after prepare()

    run_gunicorn(lambda: create_app(settings), settings.server.gunicorn_options())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
