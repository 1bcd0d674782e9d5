"""The panel in headless Chromium (Debian's, driven by Playwright): what a moderator does.

Chromium comes from Debian through ``hack/install-chromium.sh`` (run here when
``/usr/bin/chromium`` is missing); when it cannot be had these tests are
skipped with the reason. Each main page is saved to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.admin.conftest import ADMIN_TOKEN, entries, new_target_id, submit
from tests.support.processes import REPO_ROOT, Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}


def chromium() -> str | None:
    """Debian's Chromium, installed by the project's script if it is missing."""
    if not CHROMIUM.exists():
        script = REPO_ROOT / "hack" / "install-chromium.sh"
        try:
            subprocess.run(["bash", str(script)], check=False, timeout=900)
        except subprocess.TimeoutExpired:
            return None
    return str(CHROMIUM) if CHROMIUM.exists() else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium()
    if path is None:
        pytest.skip("no Chromium: /usr/bin/chromium is missing and hack/install-chromium.sh failed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def target(feedback_api: Service) -> dict[str, Any]:
    """Feedback of every rating for one target of its own, one comment holding markup."""
    target_id = new_target_id()
    ids = {rating: submit(feedback_api, target_id, rating) for rating in (1, 2, 3, 4)}
    ids[5] = submit(feedback_api, target_id, 5, "<b>Love it</b> & the new keys")
    return {"id": target_id, "ids": ids}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context; fails the test on any script error or CSP violation."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    opened = context.new_page()
    problems: list[str] = []

    def console(message: Any) -> None:
        # Error statuses the panel answers on purpose (401 on a wrong token) are no problem.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    opened.on("console", console)
    opened.on("pageerror", lambda error: problems.append(str(error)))
    yield opened
    context.close()
    assert problems == []


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, panel: Service) -> None:
    page.goto(f"{panel.url}/admin")
    page.fill("#token", ADMIN_TOKEN)
    page.click("button.primary")
    page.wait_for_url(f"{panel.url}/admin")


def test_sign_in_leads_to_the_overview(page: Any, panel: Service, target: dict[str, Any]) -> None:
    page.goto(f"{panel.url}/admin/stats")
    assert page.url.startswith(f"{panel.url}/admin/login")
    screenshot(page, "login")
    page.fill("#token", "wrong-token-entirely")
    page.click("button.primary")
    assert page.locator("p.problem").inner_text() == "That is not the admin token."
    page.fill("#token", ADMIN_TOKEN)
    page.click("button.primary")
    page.wait_for_url(f"{panel.url}/admin/stats")
    page.goto(f"{panel.url}/admin")
    assert page.locator("h1").inner_text() == "Overview"
    assert page.locator(".services .badge.ok").count() == 2
    screenshot(page, "overview")


def test_filter_by_target_and_rating(page: Any, panel: Service, target: dict[str, Any]) -> None:
    sign_in(page, panel)
    page.click("nav >> text=Feedback")
    page.fill("#f-target", target["id"])
    page.click("form.filters button[type=submit]")
    assert page.locator("table.feedback tbody tr").count() == 5
    page.select_option("#f-rating", "5")
    page.click("form.filters button[type=submit]")
    rows = page.locator("table.feedback tbody tr")
    assert rows.count() == 1
    assert "rating=5" in page.url
    # The markup in the comment is shown as text, not obeyed.
    assert rows.locator(".comment").inner_text() == "<b>Love it</b> & the new keys"
    assert rows.locator(".comment b").count() == 0
    screenshot(page, "feedback")


def test_hide_an_entry_after_confirming(
    page: Any, panel: Service, feedback_api: Service, target: dict[str, Any]
) -> None:
    feedback_id = target["ids"][1]
    sign_in(page, panel)
    page.goto(f"{panel.url}/admin/feedback?target={target['id']}&rating=1")
    questions: list[str] = []

    def answer(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    page.click(f"#feedback-{feedback_id} button:text('Hide')")
    page.wait_for_selector(".notice")
    assert questions == [f"Hide feedback #{feedback_id}?"]
    assert f"Feedback #{feedback_id} is hidden" in page.locator(".notice").inner_text()
    assert page.locator(f"#feedback-{feedback_id} .badge").inner_text() == "hidden"
    assert [
        item["hidden"] for item in entries(feedback_api, target_id=target["id"], rating="1")
    ] == [True]
    screenshot(page, "feedback-hidden")


def test_dismissing_the_confirmation_changes_nothing(
    page: Any, panel: Service, feedback_api: Service, target: dict[str, Any]
) -> None:
    feedback_id = target["ids"][2]
    sign_in(page, panel)
    page.goto(f"{panel.url}/admin/feedback?target={target['id']}&rating=2")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click(f"#feedback-{feedback_id} button:text('Hide')")
    assert page.locator(f"#feedback-{feedback_id} .badge").inner_text() == "visible"
    assert [
        item["hidden"] for item in entries(feedback_api, target_id=target["id"], rating="2")
    ] == [False]


def test_delete_goes_through_a_confirmation_page(
    page: Any, panel: Service, target: dict[str, Any]
) -> None:
    feedback_id = target["ids"][3]
    sign_in(page, panel)
    page.goto(f"{panel.url}/admin/feedback?target={target['id']}")
    page.click(f"#feedback-{feedback_id} a:text('Delete')")
    assert page.locator("h1").inner_text() == f"Delete feedback #{feedback_id}?"
    screenshot(page, "feedback-delete")
    page.click("button:text('Delete permanently')")
    page.wait_for_selector(".notice")
    assert page.locator(f"#feedback-{feedback_id}").count() == 0


def test_statistics_show_the_charts(page: Any, panel: Service, target: dict[str, Any]) -> None:
    sign_in(page, panel)
    page.click("nav >> text=Statistics")
    histogram = page.locator("#chart-histogram svg")
    histogram.wait_for()
    box = histogram.bounding_box()
    assert box is not None
    assert box["width"] > 200
    assert box["height"] > 100
    assert histogram.locator("rect.chart-bar").count() == 5
    assert page.locator("#chart-daily rect.chart-bar").count() == 30
    assert page.locator("#chart-targets rect.chart-bar").count() >= 1
    screenshot(page, "stats")


def test_catalog_lists_entries_with_their_ratings(
    page: Any, panel: Service, target: dict[str, Any]
) -> None:
    sign_in(page, panel)
    page.click("nav >> text=Catalog")
    assert page.locator("table.catalog").count() == 2
    assert page.locator("table.catalog tbody tr").count() == 7
    screenshot(page, "catalog")
    page.click("text=Clipboard History")
    assert page.locator("h1").inner_text().startswith("Clipboard History")
    screenshot(page, "catalog-entry")


def test_sign_out(page: Any, panel: Service) -> None:
    sign_in(page, panel)
    page.click("button:text('Sign out')")
    page.wait_for_url(f"{panel.url}/admin/login?notice=signed_out")
    assert page.locator(".notice").inner_text() == "You are signed out."
    page.goto(f"{panel.url}/admin/feedback")
    assert page.url.startswith(f"{panel.url}/admin/login")


def test_an_unavailable_api_is_explained_on_the_page(page: Any, stranded_panel: Service) -> None:
    sign_in(page, stranded_panel)
    alerts = page.locator(".problem[role=alert]")
    assert alerts.count() == 2
    assert "The feedback API cannot be reached" in alerts.nth(0).inner_text()
    assert "The file server did not answer within 1 s" in alerts.nth(1).inner_text()
    assert page.locator("h1").inner_text() == "Overview"
    screenshot(page, "unavailable")
