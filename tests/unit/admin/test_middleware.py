"""Access rules and CSRF checks, in process (falcon.testing): no request reaches an API."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import falcon
import falcon.testing
import pytest

from sora.admin.app import create_app
from sora.admin.sessions import COOKIE_NAME, SessionCodec
from sora.admin.settings import AdminSettings
from sora_contract.settings import Env

TOKEN = "admin-token-for-middleware-tests"
ENV = {
    "SORA_ENV": "test",
    "IP_SALT": "ip-salt-for-middleware-tests",
    "ADMIN_TOKEN": TOKEN,
    "SESSION_SECRET": "session-secret-for-middleware-tests",
    "SESSION_LIFETIME_SECONDS": "600",
    # Nothing listens there; these tests must be refused before any API call.
    "FEEDBACK_API_URL": "http://127.0.0.1:9",
    "FILE_SERVER_URL": "http://127.0.0.1:9",
}
HTML = {"Accept": "text/html"}
CODEC = SessionCodec(ENV["SESSION_SECRET"], TOKEN, 600)
FORM = "application/x-www-form-urlencoded"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(clock: Clock) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(AdminSettings.from_env(Env(ENV)), clock=clock))


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page without a CSRF token"
    return match.group(1)


def sign_in_form(client: falcon.testing.TestClient) -> tuple[str, str]:
    """The anonymous session cookie and the form's CSRF token."""
    result = client.simulate_get("/admin/login", headers=HTML)
    return result.cookies[COOKIE_NAME].value, csrf_of(result.text)


def post(
    client: falcon.testing.TestClient, path: str, cookie: str | None, **fields: str
) -> falcon.testing.Result:
    headers = {"Content-Type": FORM, **HTML}
    if cookie:
        headers["Cookie"] = f"{COOKIE_NAME}={cookie}"
    body = "&".join(f"{key}={value}" for key, value in fields.items())
    return client.simulate_post(path, body=body, headers=headers)


def signed_in(client: falcon.testing.TestClient) -> tuple[str, str]:
    """A signed-in session cookie and its CSRF token."""
    cookie, csrf = sign_in_form(client)
    result = post(client, "/admin/login", cookie, csrf_token=csrf, token=TOKEN)
    assert result.status_code == 303
    session_cookie = result.cookies[COOKIE_NAME].value
    session = CODEC.decode(session_cookie)
    assert session is not None
    return session_cookie, CODEC.csrf_token(session)


def location(result: falcon.testing.Result) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(result.headers["Location"])
    return parts.path, parse_qs(parts.query)


def test_pages_send_strangers_to_sign_in(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/admin/feedback", query_string="rating=1", headers=HTML)
    assert result.status_code == 303
    assert location(result) == (
        "/admin/login",
        {"notice": ["signed_in_required"], "next": ["/admin/feedback?rating=1"]},
    )


def test_the_sign_in_form_starts_an_anonymous_session(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/admin/login", headers=HTML)
    cookie = result.cookies[COOKIE_NAME]
    assert result.status_code == 200
    assert (cookie.http_only, cookie.secure, cookie.same_site, cookie.path) == (
        True,
        True,
        "Strict",
        "/admin",
    )
    session = CODEC.decode(cookie.value)
    assert session is not None
    assert not session.signed_in
    assert csrf_of(result.text) == CODEC.csrf_token(session)


def test_signing_in_needs_the_forms_csrf_token(client: falcon.testing.TestClient) -> None:
    cookie, _ = sign_in_form(client)
    result = post(client, "/admin/login", cookie, token=TOKEN)
    assert result.status_code == 403
    assert COOKIE_NAME not in result.cookies
    assert "did not come from this panel" in result.text


def test_signing_in_without_any_session_is_refused(client: falcon.testing.TestClient) -> None:
    _, csrf = sign_in_form(client)
    assert post(client, "/admin/login", None, csrf_token=csrf, token=TOKEN).status_code == 403


def test_the_right_token_opens_a_new_session(client: falcon.testing.TestClient) -> None:
    cookie, csrf = sign_in_form(client)
    result = post(client, "/admin/login", cookie, csrf_token=csrf, token=TOKEN, next="/admin/stats")
    assert result.status_code == 303
    assert result.headers["Location"] == "/admin/stats"
    session = CODEC.decode(result.cookies[COOKIE_NAME].value)
    anonymous = CODEC.decode(cookie)
    assert session is not None
    assert anonymous is not None
    assert session.signed_in
    assert session.id != anonymous.id


def test_a_wrong_token_opens_nothing(client: falcon.testing.TestClient) -> None:
    cookie, csrf = sign_in_form(client)
    result = post(client, "/admin/login", cookie, csrf_token=csrf, token=TOKEN + "x")
    assert result.status_code == 401
    assert COOKIE_NAME not in result.cookies
    assert "That is not the admin token." in result.text


def test_moderation_needs_the_sessions_csrf_token(client: falcon.testing.TestClient) -> None:
    cookie, _ = signed_in(client)
    result = post(client, "/admin/feedback/1/hide", cookie, back="/admin/feedback")
    assert result.status_code == 403


def test_the_csrf_token_of_another_session_is_refused(client: falcon.testing.TestClient) -> None:
    cookie, _ = signed_in(client)
    _, other_csrf = signed_in(client)
    result = post(client, "/admin/feedback/1/delete", cookie, csrf_token=other_csrf)
    assert result.status_code == 403


def test_a_json_post_cannot_pass_the_csrf_check(client: falcon.testing.TestClient) -> None:
    cookie, csrf = signed_in(client)
    result = client.simulate_post(
        "/admin/feedback/1/hide",
        json={"csrf_token": csrf},
        headers={"Cookie": f"{COOKIE_NAME}={cookie}"},
    )
    assert result.status_code == 403


def test_an_expired_session_is_sent_to_sign_in_again(
    client: falcon.testing.TestClient, clock: Clock
) -> None:
    cookie, csrf = signed_in(client)
    clock.now += 601
    result = post(client, "/admin/feedback/1/hide", cookie, csrf_token=csrf)
    assert result.status_code == 303
    assert location(result) == ("/admin/login", {"notice": ["expired"]})


def test_signing_out_drops_the_cookie(client: falcon.testing.TestClient) -> None:
    cookie, csrf = signed_in(client)
    result = post(client, "/admin/logout", cookie, csrf_token=csrf)
    assert result.status_code == 303
    assert result.headers["Location"] == "/admin/login?notice=signed_out"
    assert result.cookies[COOKIE_NAME].value == ""
    assert result.cookies[COOKIE_NAME].max_age in (0, None)


def test_signing_out_needs_the_csrf_token(client: falcon.testing.TestClient) -> None:
    cookie, _ = signed_in(client)
    assert post(client, "/admin/logout", cookie).status_code == 403


def test_every_answer_carries_the_security_headers(client: falcon.testing.TestClient) -> None:
    for path in ("/admin/login", "/admin", "/admin/static/admin.css", "/health", "/nowhere"):
        headers = client.simulate_get(path, headers=HTML).headers
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "Access-Control-Allow-Origin" not in headers


def test_pages_are_not_cached_but_static_files_are(client: falcon.testing.TestClient) -> None:
    assert client.simulate_get("/admin/login").headers["Cache-Control"] == "no-store"
    static = client.simulate_get("/admin/static/admin.js")
    assert static.headers["Cache-Control"] == "public, max-age=86400"
    assert static.headers["Content-Type"].startswith("text/javascript")


def test_static_files_are_only_the_known_ones(client: falcon.testing.TestClient) -> None:
    assert client.simulate_get("/admin/static/..%2Fsettings.py").status_code == 404
    assert client.simulate_get("/admin/static/base.html").status_code == 404


def test_errors_are_pages_for_browsers_and_json_for_programs(
    client: falcon.testing.TestClient,
) -> None:
    page = client.simulate_get("/admin/nowhere", headers=HTML)
    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<h1>Not found</h1>" in page.text
    data = client.simulate_get("/admin/nowhere", headers={"Accept": "application/json"})
    assert data.json == {"error": "Not found"}
    assert client.simulate_get("/nowhere").json == {"error": "Not found"}


def test_the_sign_in_page_has_no_inline_script_or_style(
    client: falcon.testing.TestClient,
) -> None:
    html = client.simulate_get("/admin/login", headers=HTML).text
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert " style=" not in html
    assert "<style" not in html
    assert TOKEN not in html
