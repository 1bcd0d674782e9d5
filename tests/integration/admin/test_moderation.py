"""Hide, unhide and delete through the panel, checked against the real feedback API."""

from __future__ import annotations

import pytest
import requests

from tests.integration.admin.conftest import (
    Browser,
    csrf_token,
    entries,
    new_target_id,
    sign_in,
    submit,
)
from tests.support.processes import Service


@pytest.fixture
def target() -> str:
    return new_target_id()


@pytest.fixture
def admin(panel: Service) -> Browser:
    return sign_in(panel.url)


def listing(admin: Browser, panel: Service, target: str) -> requests.Response:
    answer = admin.get(f"{panel.url}/admin/feedback", params={"target": target}, timeout=10)
    assert answer.status_code == 200
    return answer


def hidden_flags(feedback_api: Service, target: str) -> dict[int, bool]:
    return {item["id"]: item["hidden"] for item in entries(feedback_api, target_id=target)}


def test_hide_then_unhide(
    panel: Service, feedback_api: Service, admin: Browser, target: str
) -> None:
    feedback_id = submit(feedback_api, target, 2, "meh")
    page = listing(admin, panel, target)
    back = f"/admin/feedback?target={target}"
    hidden = admin.post(
        f"{panel.url}/admin/feedback/{feedback_id}/hide",
        data={"csrf_token": csrf_token(page.text), "back": back},
        timeout=10,
    )
    assert hidden.url == f"{panel.url}{back}&notice=hidden&id={feedback_id}"
    assert f"Feedback #{feedback_id} is hidden" in hidden.text
    assert hidden_flags(feedback_api, target) == {feedback_id: True}

    shown = admin.post(
        f"{panel.url}/admin/feedback/{feedback_id}/unhide",
        data={"csrf_token": csrf_token(hidden.text), "back": back},
        timeout=10,
    )
    assert f"Feedback #{feedback_id} is visible again." in shown.text
    assert hidden_flags(feedback_api, target) == {feedback_id: False}


def test_delete_asks_for_confirmation_first(
    panel: Service, feedback_api: Service, admin: Browser, target: str
) -> None:
    feedback_id = submit(feedback_api, target, 1, "please delete me")
    confirm = admin.get(f"{panel.url}/admin/feedback/{feedback_id}/delete", timeout=10)
    assert confirm.status_code == 200
    assert f"Delete feedback #{feedback_id}?" in confirm.text
    assert "please delete me" in confirm.text
    assert hidden_flags(feedback_api, target) == {feedback_id: False}  # nothing happened yet

    deleted = admin.post(
        f"{panel.url}/admin/feedback/{feedback_id}/delete",
        data={"csrf_token": csrf_token(confirm.text), "back": "/admin/feedback"},
        timeout=10,
    )
    assert f"Feedback #{feedback_id} was deleted." in deleted.text
    assert hidden_flags(feedback_api, target) == {}


def test_confirming_the_deletion_of_a_missing_entry_says_so(panel: Service, admin: Browser) -> None:
    answer = admin.get(f"{panel.url}/admin/feedback/999999999/delete", timeout=10)
    assert answer.status_code == 404
    assert "No feedback #999999999" in answer.text


def test_moderating_a_missing_entry_says_so(panel: Service, admin: Browser) -> None:
    page = admin.get(f"{panel.url}/admin/feedback", timeout=10)
    answer = admin.post(
        f"{panel.url}/admin/feedback/999999999/hide",
        data={"csrf_token": csrf_token(page.text)},
        timeout=10,
    )
    assert answer.status_code == 200
    assert "Feedback #999999999 no longer exists." in answer.text


@pytest.mark.parametrize("action", ["hide", "unhide", "delete"])
def test_moderation_without_the_csrf_token_changes_nothing(
    panel: Service, feedback_api: Service, admin: Browser, target: str, action: str
) -> None:
    feedback_id = submit(feedback_api, target, 3)
    if action == "unhide":
        requests.post(
            f"{feedback_api.url}/api/feedback/{feedback_id}/hide",
            headers={"Authorization": "Bearer admin-panel-integration-token-8c1f"},
            timeout=10,
        ).raise_for_status()
    before = hidden_flags(feedback_api, target)
    answer = admin.post(
        f"{panel.url}/admin/feedback/{feedback_id}/{action}",
        data={"csrf_token": "forged", "back": "/admin/feedback"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 403
    assert hidden_flags(feedback_api, target) == before


def test_a_csrf_token_from_another_session_is_refused(
    panel: Service, feedback_api: Service, admin: Browser, target: str
) -> None:
    feedback_id = submit(feedback_api, target, 4)
    other = sign_in(panel.url)
    foreign = csrf_token(other.get(f"{panel.url}/admin/feedback", timeout=10).text)
    answer = admin.post(
        f"{panel.url}/admin/feedback/{feedback_id}/hide",
        data={"csrf_token": foreign},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 403
    assert hidden_flags(feedback_api, target) == {feedback_id: False}
