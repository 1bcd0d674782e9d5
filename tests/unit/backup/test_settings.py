"""sora-backup's settings: everything it reads from the environment, validated at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from sora.backup import cli
from sora.backup.settings import BackupSettings
from sora_contract.settings import ConfigError, Env

BUCKET = {"BACKUP_BUCKET": "sora-backups"}


def test_logging_and_the_result_file_come_from_the_settings() -> None:
    settings = BackupSettings.from_env(
        Env(
            {
                **BUCKET,
                "SORA_DEPLOYMENT_ENV": "staging",
                "LOG_LEVEL": "DEBUG",
                "LOG_FORMAT": "text",
                "BACKUP_RESULT_FILE": "/dev/termination-log",
            }
        )
    )
    assert settings.log_environment == "staging"
    assert (settings.log_level, settings.log_format) == ("DEBUG", "text")
    assert settings.result_file == Path("/dev/termination-log")


def test_the_defaults_log_json_at_info_as_production_and_write_no_result_file() -> None:
    settings = BackupSettings.from_env(Env(BUCKET))
    assert (settings.log_environment, settings.log_level, settings.log_format) == (
        "production",
        "INFO",
        "json",
    )
    assert settings.result_file is None


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOG_LEVEL", "LOUD"), ("LOG_FORMAT", "xml"), ("SORA_ENV", "prod")],
)
def test_a_bad_logging_setting_is_a_configuration_error(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        BackupSettings.from_env(Env({**BUCKET, name: value}))


def test_the_cli_refuses_a_bad_setting_with_exit_code_2_and_writes_no_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    result = tmp_path / "result.json"
    for name, value in {**BUCKET, "LOG_LEVEL": "LOUD", "BACKUP_RESULT_FILE": str(result)}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        cli.main(["list"])
    assert exited.value.code == 2
    assert "configuration error: LOG_LEVEL" in capsys.readouterr().err
    assert not result.exists()
