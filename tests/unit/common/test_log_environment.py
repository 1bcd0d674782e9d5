"""The environment field of log records: the SoraDeployment's environment in a cluster (the
operator sets SORA_DEPLOYMENT_ENV; SORA_ENV is production in dev, staging and prod alike), the
SORA_ENV mode elsewhere."""

from __future__ import annotations

import json
import logging

import pytest

from sora_contract.logs import JsonFormatter
from sora_contract.settings import ConfigError, Env, SharedSettings, log_environment

SECRETS = {"IP_SALT": "q7Vz2LwX9pR4mT8kN3bY6cH1dF5gJ0sA"}


@pytest.mark.parametrize("deployment", ["dev", "staging", "prod"])
def test_records_name_the_soradeployments_environment(deployment: str) -> None:
    shared = SharedSettings.from_env(
        Env({"SORA_ENV": "production", "SORA_DEPLOYMENT_ENV": deployment, **SECRETS})
    )
    assert shared.environment == "production"
    record = logging.LogRecord("sora", logging.INFO, __file__, 1, "hello", None, None)
    entry = json.loads(JsonFormatter("sora-file-server", shared.log_environment).format(record))
    assert entry["environment"] == deployment


def test_outside_a_cluster_records_name_the_mode() -> None:
    assert log_environment(Env({}), "development") == "development"
    assert SharedSettings.from_env(Env(SECRETS)).log_environment == "production"


def test_an_unknown_deployment_environment_stops_the_program_with_one_line() -> None:
    with pytest.raises(ConfigError) as refused:
        log_environment(Env({"SORA_DEPLOYMENT_ENV": "qa"}), "production")
    assert str(refused.value) == "SORA_DEPLOYMENT_ENV must be one of dev, staging, prod; got 'qa'"
