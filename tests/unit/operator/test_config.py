"""The operator's own settings from the environment, and kopf's settings from them."""

from __future__ import annotations

import argparse

import pytest

from sora_contract.settings import ConfigError, Env
from sora_operator.__main__ import parse_args
from sora_operator.config import OperatorConfig
from sora_operator.kopf_settings import kopf_settings


def _config(**environ: str) -> OperatorConfig:
    return OperatorConfig.from_env(Env({"POD_NAMESPACE": "ops", **environ}))


def test_defaults_watch_every_namespace_with_leader_election() -> None:
    config = _config()
    assert config.namespaces == ()
    assert config.lease.enabled
    assert config.lease.namespace == "ops"


def test_namespaces_are_a_comma_separated_list() -> None:
    assert _config(SORA_OPERATOR_NAMESPACES="a, b").namespaces == ("a", "b")


def test_lease_timings_must_be_ordered() -> None:
    with pytest.raises(
        ConfigError, match="LEASE_RETRY_PERIOD < SORA_OPERATOR_LEASE_RENEW_DEADLINE"
    ):
        _config(SORA_OPERATOR_LEASE_RENEW_DEADLINE="40")


def test_watch_client_timeout_must_exceed_the_server_timeout() -> None:
    with pytest.raises(ConfigError, match="WATCH_CLIENT_TIMEOUT"):
        _config(SORA_OPERATOR_WATCH_CLIENT_TIMEOUT="100", SORA_OPERATOR_WATCH_SERVER_TIMEOUT="200")


def test_a_malformed_number_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="SORA_OPERATOR_METRICS_PORT"):
        _config(SORA_OPERATOR_METRICS_PORT="nine")


def test_liveness_must_be_an_http_url_with_port_and_path() -> None:
    with pytest.raises(ConfigError, match="SORA_OPERATOR_LIVENESS"):
        _config(SORA_OPERATOR_LIVENESS="healthz")


def test_flags_override_the_environment() -> None:
    args = parse_args(["--namespace", "x", "--metrics-port", "0", "--no-leader-election"])
    config = _config(SORA_OPERATOR_NAMESPACES="a").with_flags(args)
    assert (config.namespaces, config.metrics_port, config.lease.enabled) == (("x",), 0, False)


def test_pod_name_is_the_election_identity() -> None:
    assert _config(POD_NAME="sora-operator-7c9").lease.identity == "sora-operator-7c9"


def test_kopf_watches_end_on_bounded_timeouts() -> None:
    settings = kopf_settings(_config())
    assert settings.watching.server_timeout == 270
    assert settings.watching.client_timeout == 300
    assert settings.watching.connect_timeout == 10


def test_kopf_keeps_its_bookkeeping_in_the_operators_annotations() -> None:
    settings = kopf_settings(_config())
    assert settings.persistence.finalizer.startswith("sora.example.com/")


def test_kopf_runs_standalone_without_peering() -> None:
    assert kopf_settings(_config()).peering.standalone is True


def test_help_describes_the_program(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["--help"])
    assert exited.value.code == 0
    assert "SoraDeployment" in capsys.readouterr().out


def test_unknown_flags_are_refused() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--frobnicate"])


def test_namespace_flag_repeats() -> None:
    args: argparse.Namespace = parse_args(["--namespace", "a", "--namespace", "b"])
    assert args.namespace == ["a", "b"]
