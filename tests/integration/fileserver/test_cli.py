import subprocess
from pathlib import Path

from tests.integration.fileserver.conftest import server_env
from tests.support.processes import program


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [program("sora-file-server"), *args],
        env={"PATH": "/usr/bin:/bin", **server_env(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_describes_the_flags(tmp_path: Path) -> None:
    result = run(tmp_path, "--help")
    assert result.returncode == 0
    assert "--port" in result.stdout


def test_a_bad_setting_stops_the_server_with_one_line_and_status_2(tmp_path: Path) -> None:
    result = run(tmp_path, STORAGE_BACKEND="s3")
    assert result.returncode == 2
    assert result.stderr == (
        "sora-file-server: configuration error: S3_BUCKET is required when STORAGE_BACKEND=s3\n"
    )


def test_a_weak_ip_salt_outside_development_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, STORAGE_DIR=str(tmp_path), IP_SALT="short")
    assert result.returncode == 2
    assert "IP_SALT is too weak" in result.stderr
