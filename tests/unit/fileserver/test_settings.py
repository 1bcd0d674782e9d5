from pathlib import Path

import pytest

from sora.fileserver.settings import Settings
from sora_contract.settings import ConfigError, Env


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(Env({"SORA_ENV": "development", "STORAGE_DIR": str(tmp_path), **env}))


def test_defaults_serve_a_local_directory_on_port_3000(tmp_path: Path) -> None:
    loaded = settings(tmp_path)
    assert (loaded.storage_backend, loaded.server.port) == ("local", 3000)
    assert loaded.cache_max_bytes == 1024**3
    assert loaded.redirect_min_bytes == 0
    assert loaded.access_log_read_sampling == 10


def test_s3_settings_are_read_and_the_prefix_normalised(tmp_path: Path) -> None:
    loaded = settings(
        tmp_path,
        STORAGE_BACKEND="s3",
        S3_BUCKET="sora",
        S3_PREFIX="/catalog/v1/",
        S3_ENDPOINT_URL="http://127.0.0.1:9000",
        CACHE_MAX_BYTES="512MiB",
        S3_REDIRECT_MIN_BYTES="10MB",
    )
    assert (loaded.s3_bucket, loaded.s3_prefix) == ("sora", "catalog/v1/")
    assert loaded.cache_max_bytes == 512 * 1024**2
    assert loaded.redirect_min_bytes == 10_000_000


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND must be one of local, s3"),
        ({"STORAGE_BACKEND": "s3"}, "S3_BUCKET is required when STORAGE_BACKEND=s3"),
        ({"STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "S3_PREFIX": "a/../b"}, "S3_PREFIX"),
        (
            {"STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "S3_ENDPOINT_URL": "minio:9000"},
            "S3_ENDPOINT_URL must be an http:// or https:// URL",
        ),
        ({"STORAGE_DIR": "/nonexistent/catalog"}, "STORAGE_DIR must be an existing directory"),
        ({"CACHE_MAX_BYTES": "lots"}, "CACHE_MAX_BYTES must be a size"),
        ({"CATALOG_TTL_SECONDS": "-1"}, "CATALOG_TTL_SECONDS must be at least 0"),
        ({"S3_REDIRECT_MIN_BYTES": "1MB"}, "S3_REDIRECT_MIN_BYTES needs STORAGE_BACKEND=s3"),
        ({"PORT": "70000"}, "PORT must be at most 65535"),
        ({"ACCESS_LOG_READ_SAMPLING": "0"}, "ACCESS_LOG_READ_SAMPLING must be at least 1"),
    ],
)
def test_bad_settings_stop_with_one_line_naming_the_variable(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        settings(tmp_path, **env)
    assert "\n" not in str(caught.value)
