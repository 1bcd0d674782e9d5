"""What the pages show, over HTTP: escaping, filters, pages, export, charts, catalog."""

from __future__ import annotations

import csv
import io
import re

import pytest
import requests

from tests.integration.admin.conftest import (
    ADMIN_TOKEN,
    SESSION_SECRET,
    Browser,
    new_target_id,
    sign_in,
    submit,
)
from tests.support.processes import Service

PAGES = ("/admin", "/admin/feedback", "/admin/stats", "/admin/catalog")
DOWN = "<strong>The feedback API cannot be reached at http://127.0.0.1:"
HUNG = "<strong>The file server did not answer within 1 s.</strong>"


@pytest.fixture
def admin(panel: Service) -> Browser:
    return sign_in(panel.url)


def ids_on(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'<tr id="feedback-(\d+)"', html)]


def test_a_comment_holding_markup_is_shown_as_text(
    panel: Service, feedback_api: Service, admin: Browser
) -> None:
    target = new_target_id()
    submit(feedback_api, target, 1, '<script>alert("owned")</script><img src=x onerror=alert(1)>')
    html = admin.get(f"{panel.url}/admin/feedback", params={"target": target}, timeout=10).text
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html


def test_pages_have_no_inline_script_no_inline_style_and_no_secret(
    panel: Service, admin: Browser
) -> None:
    for path in PAGES:
        answer = admin.get(f"{panel.url}{path}", timeout=10)
        assert answer.status_code == 200, path
        assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "DENY"
        html = answer.text
        assert re.findall(r"<script(?![^>]*\bsrc=\"/admin/static/)", html) == [], path
        assert " style=" not in html
        assert "<style" not in html
        assert ADMIN_TOKEN not in html
        assert SESSION_SECRET not in html


def test_filters_reach_the_feedback_api(
    panel: Service, feedback_api: Service, admin: Browser
) -> None:
    target = new_target_id()
    low = submit(feedback_api, target, 1)
    high = submit(feedback_api, target, 5)
    layout = submit(feedback_api, target, 5, target_type="layout")
    url = f"{panel.url}/admin/feedback"
    assert ids_on(admin.get(url, params={"target": target}, timeout=10).text) == [layout, high, low]
    five = admin.get(url, params={"target": target, "rating": "5"}, timeout=10).text
    assert ids_on(five) == [layout, high]
    extensions = admin.get(
        url, params={"target": target, "rating": "5", "kind": "extension"}, timeout=10
    ).text
    assert ids_on(extensions) == [high]
    tomorrow = admin.get(url, params={"target": target, "from": "2999-01-01"}, timeout=10).text
    assert ids_on(tomorrow) == []
    assert "No feedback matches these filters." in tomorrow


def test_a_bad_filter_is_explained_not_fatal(panel: Service, admin: Browser) -> None:
    answer = admin.get(f"{panel.url}/admin/feedback", params={"rating": "9"}, timeout=10)
    assert answer.status_code == 200
    assert "Rating must be a whole number from 1 to 5; that filter was left out." in answer.text


def test_the_list_pages_through_older_entries(
    panel: Service, feedback_api: Service, admin: Browser
) -> None:
    target = new_target_id()
    created = [submit(feedback_api, target, 3) for _ in range(30)]
    first = admin.get(f"{panel.url}/admin/feedback", params={"target": target}, timeout=10)
    assert ids_on(first.text) == sorted(created, reverse=True)[:25]
    older = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert older
    second = admin.get(f"{panel.url}{older.group(1).replace('&amp;', '&')}", timeout=10)
    assert ids_on(second.text) == sorted(created, reverse=True)[25:]
    assert 'rel="next"' not in second.text
    newer = re.search(r'<a href="([^"]+)" rel="prev">', second.text)
    assert newer
    back = admin.get(f"{panel.url}{newer.group(1).replace('&amp;', '&')}", timeout=10)
    assert ids_on(back.text) == ids_on(first.text)


def test_export_streams_the_filtered_feedback_as_csv(
    panel: Service, feedback_api: Service, admin: Browser
) -> None:
    target = new_target_id()
    submit(feedback_api, target, 4, "exported, with a comma")
    submit(feedback_api, target, 2)
    answer = admin.get(
        f"{panel.url}/admin/feedback/export",
        params={"target_id": target, "rating": "4", "format": "csv"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(row["target_id"], row["rating"], row["comment"]) for row in rows] == [
        (target, "4", "exported, with a comma")
    ]


def test_export_needs_a_session(panel: Service) -> None:
    answer = requests.get(f"{panel.url}/admin/feedback/export", allow_redirects=False, timeout=10)
    assert answer.status_code == 303


def test_the_statistics_page_draws_its_charts(
    panel: Service, feedback_api: Service, admin: Browser
) -> None:
    submit(feedback_api, new_target_id(), 5)
    html = admin.get(f"{panel.url}/admin/stats", params={"days": "7"}, timeout=10).text
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 3
    for chart in ("chart-histogram", "chart-daily", "chart-targets"):
        assert f'id="{chart}"' in html
    assert "Feedback per day, last 7 days" in html


def test_the_catalog_shows_versions_sizes_and_ratings_side_by_side(
    panel: Service, feedback_api: Service, admin: Browser
) -> None:
    submit(feedback_api, "dvorak", 5, target_type="layout")
    html = admin.get(f"{panel.url}/admin/catalog", timeout=10).text
    row = re.search(r'<a href="/admin/catalog/layouts/dvorak">Dvorak</a>.*?</tr>', html, re.S)
    assert row
    assert '<span class="tag">1.0.1</span><span class="tag">1.0.0</span>' in row.group(0)
    assert "KiB" in row.group(0)
    assert "★" in row.group(0)
    assert "Clipboard History" in html
    assert "JIS Kana" in html


def test_a_catalog_entry_lists_every_version_with_its_size(panel: Service, admin: Browser) -> None:
    html = admin.get(f"{panel.url}/admin/catalog/extensions/spell-check", timeout=10).text
    versions = re.findall(r"<td>(\d+\.\d+\.\d+)", html)
    assert versions == ["0.10.0", "0.2.0", "0.1.0"]
    assert html.count("KiB</td>") == 3


def test_an_unknown_catalog_entry_is_a_clear_404(panel: Service, admin: Browser) -> None:
    answer = admin.get(f"{panel.url}/admin/catalog/extensions/no-such-thing", timeout=10)
    assert answer.status_code == 404
    assert (
        '<div class="problem" role="alert"><strong>No such extension.</strong></div>' in answer.text
    )


@pytest.mark.parametrize(
    ("path", "messages"),
    [
        ("/admin", [DOWN, HUNG]),
        ("/admin/feedback", [DOWN]),
        ("/admin/feedback/1/delete", [DOWN]),
        ("/admin/stats", [DOWN]),
        ("/admin/catalog", [DOWN, HUNG]),
        ("/admin/catalog/extensions/word-count", [DOWN, HUNG]),
    ],
)
def test_unavailable_apis_give_a_message_not_a_500(
    stranded_panel: Service, path: str, messages: list[str]
) -> None:
    admin = sign_in(stranded_panel.url)
    answer = admin.get(f"{stranded_panel.url}{path}", timeout=30)
    assert answer.status_code == 503
    assert "<h1>" in answer.text
    for message in messages:
        assert message in answer.text


def test_moderation_with_the_api_down_says_nothing_changed(stranded_panel: Service) -> None:
    admin = sign_in(stranded_panel.url)
    page = admin.get(f"{stranded_panel.url}/admin/feedback", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = admin.post(
        f"{stranded_panel.url}/admin/feedback/5/hide",
        data={"csrf_token": token.group(1)},
        timeout=30,
    )
    assert answer.status_code == 503
    assert "Feedback #5 was not changed. The feedback API cannot be reached" in answer.text


def test_export_with_the_api_down_says_so(stranded_panel: Service) -> None:
    admin = sign_in(stranded_panel.url)
    answer = admin.get(f"{stranded_panel.url}/admin/feedback/export?format=csv", timeout=30)
    assert answer.status_code == 503
    assert "The export failed. The feedback API cannot be reached" in answer.text
