"""Signing in and out over HTTP, against a real panel process."""

from __future__ import annotations

import time

import requests

from tests.integration.admin.conftest import SHORT_LIFETIME, csrf_token, new_session, sign_in
from tests.support.processes import Service

COOKIE = "sora_admin_session"


def test_pages_need_a_session(panel: Service) -> None:
    answer = new_session().get(f"{panel.url}/admin/feedback", allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/admin/login?")


def test_the_admin_token_opens_a_session_cookie_with_strict_flags(panel: Service) -> None:
    client = new_session()
    form = client.get(f"{panel.url}/admin/login", timeout=10)
    answer = client.post(
        f"{panel.url}/admin/login",
        data={"csrf_token": csrf_token(form.text), "token": "admin-panel-integration-token-8c1f"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/admin"
    cookie = answer.headers["Set-Cookie"]
    for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"):
        assert flag in cookie
    assert client.get(f"{panel.url}/admin", timeout=10).status_code == 200


def test_a_wrong_token_is_refused_with_a_message(panel: Service) -> None:
    client = new_session()
    form = client.get(f"{panel.url}/admin/login", timeout=10)
    answer = client.post(
        f"{panel.url}/admin/login",
        data={"csrf_token": csrf_token(form.text), "token": "not-the-token-at-all"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 401
    assert "That is not the admin token." in answer.text
    assert client.get(f"{panel.url}/admin", allow_redirects=False, timeout=10).status_code == 303


def test_sign_in_without_the_forms_csrf_token_is_refused(panel: Service) -> None:
    client = new_session()
    client.get(f"{panel.url}/admin/login", timeout=10)
    answer = client.post(
        f"{panel.url}/admin/login",
        data={"token": "admin-panel-integration-token-8c1f"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 403
    assert "did not come from this panel" in answer.text
    assert COOKIE not in answer.headers.get("Set-Cookie", "")


def test_sign_in_returns_to_the_page_first_asked_for(panel: Service) -> None:
    client = new_session()
    first = client.get(f"{panel.url}/admin/stats?days=7", timeout=10)
    assert first.url.startswith(f"{panel.url}/admin/login")
    answer = client.post(
        f"{panel.url}/admin/login",
        data={
            "csrf_token": csrf_token(first.text),
            "token": "admin-panel-integration-token-8c1f",
            "next": "/admin/stats?days=7",
        },
        timeout=10,
    )
    assert answer.url == f"{panel.url}/admin/stats?days=7"


def test_sign_in_never_sends_anyone_off_the_panel(panel: Service) -> None:
    client = sign_in(panel.url, next_page="https://evil.example/")
    answer = client.get(f"{panel.url}/admin/login", allow_redirects=False, timeout=10)
    assert answer.headers["Location"] == "/admin"


def test_sign_out_ends_the_session(panel: Service) -> None:
    client = sign_in(panel.url)
    page = client.get(f"{panel.url}/admin/catalog", timeout=10)
    answer = client.post(
        f"{panel.url}/admin/logout", data={"csrf_token": csrf_token(page.text)}, timeout=10
    )
    assert answer.url == f"{panel.url}/admin/login?notice=signed_out"
    assert "You are signed out." in answer.text
    after = client.get(f"{panel.url}/admin/catalog", allow_redirects=False, timeout=10)
    assert after.status_code == 303


def test_sign_out_needs_the_csrf_token(panel: Service) -> None:
    client = sign_in(panel.url)
    answer = client.post(f"{panel.url}/admin/logout", data={}, timeout=10)
    assert answer.status_code == 403
    assert client.get(f"{panel.url}/admin/catalog", timeout=10).status_code == 200


def test_a_session_expires_after_its_lifetime(short_panel: Service) -> None:
    client = sign_in(short_panel.url)
    signed_in_by = time.time()
    # /admin/logout (GET) asks "Sign out?": a page that needs a session but no API call.
    still = client.get(f"{short_panel.url}/admin/logout", allow_redirects=False, timeout=10)
    assert still.status_code == 200
    time.sleep(max(0.0, signed_in_by + SHORT_LIFETIME + 0.2 - time.time()))
    answer = client.get(f"{short_panel.url}/admin/catalog", allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert "notice=expired" in answer.headers["Location"]
    login = client.get(f"{short_panel.url}{answer.headers['Location']}", timeout=10)
    assert "Your session expired: sign in again." in login.text


def test_a_session_cookie_from_another_deployment_is_worthless(panel: Service) -> None:
    client = new_session()
    client.cookies[COOKIE] = "AAAAAAAAAAAAAAAAAAAAAAAA.1.1700000000.9999999999." + "A" * 43
    answer = client.get(f"{panel.url}/admin", allow_redirects=False, timeout=10)
    assert answer.status_code == 303


def test_health_and_metrics_need_no_session(panel: Service) -> None:
    assert requests.get(f"{panel.url}/health", timeout=10).json() == {"status": "ok"}
    sign_in(panel.url)
    metrics = requests.get(f"{panel.url}/metrics", timeout=10).text
    assert 'sora_admin_sign_ins_total{result="success"}' in metrics
