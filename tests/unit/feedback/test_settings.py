import pytest

from sora.feedback.settings import DEV_ADMIN_TOKEN, DEV_ENCRYPTION_KEY, FeedbackSettings
from sora_contract.settings import ConfigError, Env

STRONG = {
    "SORA_ENV": "production",
    "IP_SALT": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "ENCRYPTION_KEY": "test-key-32-characters-long-key",
    "ADMIN_TOKEN": "b7c1d9e3f5a7b9c1d3e5f7a9",
}


def settings(**overrides: str) -> FeedbackSettings:
    environ = {**STRONG, **overrides}
    return FeedbackSettings.from_env(Env({k: v for k, v in environ.items() if v}))


def test_defaults() -> None:
    loaded = settings()
    assert loaded.server.port == 3001
    assert str(loaded.storage.database_path) == "data/feedback.db"
    assert loaded.storage.synchronous == "full"
    assert loaded.rate_limit.enabled
    assert loaded.keys.old == ()


@pytest.mark.parametrize("variable", ["ENCRYPTION_KEY", "ADMIN_TOKEN", "IP_SALT"])
def test_a_missing_secret_outside_development_is_refused_by_name(variable: str) -> None:
    with pytest.raises(ConfigError, match=f"^{variable} is required when SORA_ENV=production$"):
        settings(**{variable: ""})


@pytest.mark.parametrize("variable", ["ENCRYPTION_KEY", "ADMIN_TOKEN", "IP_SALT"])
@pytest.mark.parametrize("weak", ["short", "aaaaaaaaaaaaaaaaaaaaaaaa"])
def test_a_weak_secret_outside_development_is_refused_by_name(variable: str, weak: str) -> None:
    with pytest.raises(ConfigError, match=f"^{variable} is too weak"):
        settings(**{variable: weak})


def test_the_admin_token_cannot_double_as_the_encryption_key() -> None:
    with pytest.raises(ConfigError, match="ADMIN_TOKEN must differ"):
        settings(ADMIN_TOKEN=STRONG["ENCRYPTION_KEY"])


def test_development_falls_back_to_fixed_secrets() -> None:
    loaded = FeedbackSettings.from_env(Env({"SORA_ENV": "development"}))
    assert loaded.keys.current == DEV_ENCRYPTION_KEY
    assert loaded.admin_token == DEV_ADMIN_TOKEN


def test_old_keys_are_a_comma_separated_list_without_the_current_key() -> None:
    loaded = settings(ENCRYPTION_KEYS_OLD=f"first-old-key-abcdefgh, {STRONG['ENCRYPTION_KEY']}")
    assert loaded.keys.old == ("first-old-key-abcdefgh",)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SQLITE_SYNCHRONOUS", "off"),
        ("PORT", "http"),
        ("RATE_LIMIT_SUBMIT_BURST", "0"),
        ("RATE_LIMIT_ENABLED", "sometimes"),
    ],
)
def test_bad_values_name_their_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        settings(**{variable: value})


def test_the_catalog_comes_from_the_local_file_server_by_default() -> None:
    catalog = settings().catalog
    assert catalog.file_server_url == "http://127.0.0.1:3000"
    assert (catalog.ttl_seconds, catalog.max_age_seconds) == (30.0, 300.0)


def test_the_file_server_url_must_be_an_http_base_url() -> None:
    with pytest.raises(ConfigError, match=r"^FILE_SERVER_URL must be an http"):
        settings(FILE_SERVER_URL="file-server:3000")
    assert settings(FILE_SERVER_URL="http://files.sora.svc:3000/").catalog.file_server_url == (
        "http://files.sora.svc:3000"
    )


def test_the_catalog_may_not_expire_before_it_is_refreshed() -> None:
    with pytest.raises(ConfigError, match="CATALOG_MAX_AGE_SECONDS must be at least"):
        settings(CATALOG_TTL_SECONDS="60", CATALOG_MAX_AGE_SECONDS="30")


def test_the_api_runs_one_worker_with_threads_by_default() -> None:
    loaded = settings()
    assert (loaded.server.workers, loaded.server.threads) == (1, 8)
    assert loaded.server.max_requests == 0  # one worker: recycling would pause everything
    assert settings(WEB_CONCURRENCY="1", WEB_THREADS="16").server.threads == 16


@pytest.mark.parametrize("workers", ["2", "3"])
def test_more_than_one_worker_is_refused_naming_the_variable(workers: str) -> None:
    # Each worker would be a writer of its own on the same database file.
    with pytest.raises(
        ConfigError, match=f"^WEB_CONCURRENCY must be 1 .*got {workers}.*WEB_THREADS"
    ):
        settings(WEB_CONCURRENCY=workers)
