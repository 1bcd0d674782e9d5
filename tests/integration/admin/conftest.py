"""Real processes: the feedback API, the file server (sample catalog) and the admin panel.

The panel runs with ``SORA_ENV=test`` and strong secrets, as it would in a
cluster, so its cookies are ``Secure``. Browsers send those to http://127.0.0.1
(loopback counts as a secure context); requests' cookie jar does not, so the
HTTP tests use :class:`Browser`, which keeps cookies the way a browser does here.
"""

from __future__ import annotations

import contextlib
import http.cookies
import itertools
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from sora.fileserver.sample import create_sample_catalog
from tests.support.catalog import catalog_server, write_catalog
from tests.support.processes import Service, free_port, program, running

ADMIN_TOKEN = "admin-panel-integration-token-8c1f"
SESSION_SECRET = "admin-panel-integration-session-5e2a"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SHORT_LIFETIME = 4
SHARED = {
    "SORA_ENV": "test",
    "IP_SALT": "admin-panel-integration-salt-93b7",
    "LOG_FORMAT": "json",
    "WEB_THREADS": "4",
    "TRUSTED_PROXIES": "127.0.0.1/32",
}
_addresses = itertools.count(1)
# Targets of the tests' own feedback: in the feedback API's catalog, not in the panel's.
TARGET_POOL = tuple(f"adm-{number:04d}" for number in range(300))
_targets = iter(TARGET_POOL)


class Browser:
    """Just enough of a browser: keeps cookies (``Secure`` ones too), follows redirects."""

    REDIRECTS = (301, 302, 303, 307, 308)

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def request(
        self, method: str, url: str, *, allow_redirects: bool = True, **kwargs: Any
    ) -> requests.Response:
        for _ in range(10):
            headers = {"Accept": "text/html", **kwargs.pop("headers", {})}
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            kwargs.setdefault("timeout", 10)
            response = requests.request(
                method, url, headers=headers, allow_redirects=False, **kwargs
            )
            self._remember(response)
            if not allow_redirects or response.status_code not in self.REDIRECTS:
                return response
            url = urljoin(url, response.headers["Location"])
            method = "GET"
            kwargs = {"timeout": kwargs["timeout"]}
        raise AssertionError(f"too many redirects from {url}")

    def _remember(self, response: requests.Response) -> None:
        for header in response.raw.headers.getlist("Set-Cookie"):
            parsed = http.cookies.SimpleCookie()
            parsed.load(header)
            for name, morsel in parsed.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)


def new_session() -> Browser:
    return Browser()


@contextlib.contextmanager
def _server(name: str, tmp: Path, env: dict[str, str], workers: int = 1) -> Iterator[Service]:
    port = free_port()
    full_env = {
        **SHARED,
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
        **env,
    }
    with running([program(name)], full_env, tmp / "server.log", "/health", port) as service:
        yield service


@pytest.fixture(scope="session")
def feedback_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The file server the feedback API checks targets against: the sample catalog the
    panel shows, plus the targets the tests rate (new_target_id)."""
    tmp = tmp_path_factory.mktemp("admin-feedback-catalog")
    create_sample_catalog(tmp / "catalog")
    write_catalog(tmp / "catalog", TARGET_POOL)
    with catalog_server(tmp, tmp / "catalog") as service:
        yield service


@pytest.fixture(scope="session")
def feedback_api(
    tmp_path_factory: pytest.TempPathFactory, feedback_catalog: Service
) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("admin-feedback-api")
    env = {
        "FILE_SERVER_URL": feedback_catalog.url,
        "DATABASE_PATH": str(tmp / "feedback.db"),
        "ENCRYPTION_KEY": "admin-panel-integration-encryption-key",
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "RATE_LIMIT_ENABLED": "false",
    }
    with _server("sora-feedback-api", tmp, env) as service:
        yield service


@pytest.fixture(scope="session")
def file_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("admin-file-server")
    create_sample_catalog(tmp / "catalog")
    env = {
        "STORAGE_BACKEND": "local",
        "STORAGE_DIR": str(tmp / "catalog"),
        "CACHE_DIR": str(tmp / "cache"),
    }
    with _server("sora-file-server", tmp, env) as service:
        yield service


def panel_env(feedback_url: str, file_server_url: str, **extra: str) -> dict[str, str]:
    return {
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "SESSION_SECRET": SESSION_SECRET,
        "FEEDBACK_API_URL": feedback_url,
        "FILE_SERVER_URL": file_server_url,
        "UPSTREAM_READ_TIMEOUT_SECONDS": "10",
        **extra,
    }


@pytest.fixture(scope="session")
def panel(
    feedback_api: Service, file_server: Service, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """The panel under test: two workers, so a session must work across processes."""
    tmp = tmp_path_factory.mktemp("admin-panel")
    env = panel_env(feedback_api.url, file_server.url)
    with _server("sora-admin", tmp, env, workers=2) as service:
        yield service


@pytest.fixture(scope="session")
def short_panel(
    feedback_api: Service, file_server: Service, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """A panel whose sessions last ``SHORT_LIFETIME`` seconds."""
    tmp = tmp_path_factory.mktemp("admin-panel-short")
    env = panel_env(feedback_api.url, file_server.url, SESSION_LIFETIME_SECONDS=str(SHORT_LIFETIME))
    with _server("sora-admin", tmp, env) as service:
        yield service


@pytest.fixture(scope="session")
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield int(listener.getsockname()[1])


@pytest.fixture(scope="session")
def stranded_panel(silent_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A panel whose feedback API is down (nothing listens) and whose file server hangs."""
    tmp = tmp_path_factory.mktemp("admin-panel-stranded")
    env = panel_env(
        f"http://127.0.0.1:{free_port()}",
        f"http://127.0.0.1:{silent_port}",
        UPSTREAM_READ_TIMEOUT_SECONDS="1",
    )
    with _server("sora-admin", tmp, env) as service:
        yield service


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page without a CSRF token"
    return match.group(1)


def sign_in(url: str, token: str = ADMIN_TOKEN, next_page: str = "") -> Browser:
    """A client signed in to the panel at ``url``."""
    session = new_session()
    form = session.get(f"{url}/admin/login", timeout=10)
    form.raise_for_status()
    answer = session.post(
        f"{url}/admin/login",
        data={"csrf_token": csrf_token(form.text), "token": token, "next": next_page},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return session


def new_target_id() -> str:
    """A target of the feedback API's catalog that no other test of the session rates."""
    return next(_targets)


def new_address() -> str:
    number = next(_addresses)
    return f"10.20.{number // 256 % 256}.{number % 256}"


def submit(
    api: Service,
    target_id: str,
    rating: int,
    comment: str | None = None,
    target_type: str = "extension",
) -> int:
    """Feedback from a client of its own, through the public API; returns its id."""
    body: dict[str, Any] = {"target_type": target_type, "target_id": target_id, "rating": rating}
    if comment is not None:
        body["comment"] = comment
    answer = requests.post(
        f"{api.url}/api/feedback",
        json=body,
        headers={"X-Forwarded-For": new_address()},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def entries(api: Service, **filters: str) -> list[dict[str, Any]]:
    """What the feedback API's admin list holds (the truth the panel must agree with)."""
    params: dict[str, str | int] = {"limit": 200, **filters}
    answer = requests.get(f"{api.url}/api/feedback", params=params, headers=ADMIN, timeout=10)
    answer.raise_for_status()
    items: list[dict[str, Any]] = answer.json()["items"]
    return items
