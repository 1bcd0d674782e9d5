"""Admin panel settings: secrets required and strong outside development, URLs checked."""

from __future__ import annotations

import pytest

from sora.admin import settings as admin_settings
from sora.admin.settings import AdminSettings
from sora.feedback.settings import DEV_ADMIN_TOKEN as FEEDBACK_DEV_ADMIN_TOKEN
from sora_contract.settings import ConfigError, Env

STRONG = {
    "SORA_ENV": "production",
    "IP_SALT": "ip-salt-for-admin-settings-tests",
    "ADMIN_TOKEN": "admin-token-for-settings-tests-1",
    "SESSION_SECRET": "session-secret-for-settings-tests",
}


def load(**env: str) -> AdminSettings:
    return AdminSettings.from_env(Env(env))


def test_defaults_in_development() -> None:
    settings = load(SORA_ENV="development")
    assert settings.server.port == 3002
    assert settings.upstreams.feedback_api_url == "http://127.0.0.1:3001"
    assert settings.upstreams.file_server_url == "http://127.0.0.1:3000"
    assert settings.session_lifetime_seconds == 8 * 3600


def test_development_admin_token_matches_the_feedback_api() -> None:
    assert load(SORA_ENV="development").admin_token == FEEDBACK_DEV_ADMIN_TOKEN
    assert admin_settings.DEV_ADMIN_TOKEN == FEEDBACK_DEV_ADMIN_TOKEN


def test_strong_secrets_are_accepted_in_production() -> None:
    settings = load(**STRONG, FEEDBACK_API_URL="http://feedback:3001/")
    assert settings.admin_token == STRONG["ADMIN_TOKEN"]
    assert settings.upstreams.feedback_api_url == "http://feedback:3001"


@pytest.mark.parametrize("name", ["ADMIN_TOKEN", "SESSION_SECRET"])
def test_a_missing_secret_stops_the_panel(name: str) -> None:
    env = {key: value for key, value in STRONG.items() if key != name}
    with pytest.raises(ConfigError, match=f"{name} is required"):
        load(**env)


@pytest.mark.parametrize("name", ["ADMIN_TOKEN", "SESSION_SECRET"])
@pytest.mark.parametrize("weak", ["short", "aaaaaaaaaaaaaaaaaaaaaaaa"])
def test_a_weak_secret_stops_the_panel(name: str, weak: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} is too weak"):
        load(**{**STRONG, name: weak})


def test_session_secret_must_differ_from_the_admin_token() -> None:
    with pytest.raises(ConfigError, match="SESSION_SECRET must differ from ADMIN_TOKEN"):
        load(**{**STRONG, "SESSION_SECRET": STRONG["ADMIN_TOKEN"]})


@pytest.mark.parametrize("url", ["feedback:3001", "ftp://feedback", "http://x/?a=1", "http://"])
def test_an_upstream_url_must_be_an_http_base_url(url: str) -> None:
    with pytest.raises(ConfigError, match="FEEDBACK_API_URL must be an http"):
        load(**STRONG, FEEDBACK_API_URL=url)


def test_session_lifetime_is_bounded() -> None:
    assert load(**STRONG, SESSION_LIFETIME_SECONDS="60").session_lifetime_seconds == 60
    with pytest.raises(ConfigError, match="SESSION_LIFETIME_SECONDS must be at least 1"):
        load(**STRONG, SESSION_LIFETIME_SECONDS="0")
