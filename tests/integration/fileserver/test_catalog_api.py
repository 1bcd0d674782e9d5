from typing import Any

import pytest
import requests

from tests.support.processes import Service


def get(server: Service, path: str, **params: Any) -> requests.Response:
    return requests.get(server.url + path, params=params, timeout=10)


def ids(response: requests.Response) -> list[str]:
    return [item["id"] for item in response.json()["items"]]


def test_extensions_are_listed_by_name_then_id(server: Service) -> None:
    response = get(server, "/api/extensions")
    assert response.status_code == 200
    assert ids(response) == [
        "clipboard-history",
        "emoji-picker",
        "spell-check",
        "tampered",
        "word-count",
    ]


def test_layouts_are_listed_separately_from_extensions(server: Service) -> None:
    assert ids(get(server, "/api/layouts")) == ["colemak", "dvorak", "jis-kana"]


def test_a_listed_entry_shows_its_latest_release_and_every_version(server: Service) -> None:
    item = get(server, "/api/extensions", q="clipboard").json()["items"][0]
    assert item["version"] == "1.1.0"
    assert item["versions"] == ["1.2.0-beta.1", "1.1.0", "1.0.0"]


def test_text_search_matches_descriptions_case_insensitively(server: Service) -> None:
    assert ids(get(server, "/api/extensions", q="EMOJI BY NAME")) == ["emoji-picker"]


def test_tag_filter_requires_every_tag(server: Service) -> None:
    assert ids(get(server, "/api/extensions", tag=["writing", "productivity"])) == ["word-count"]
    assert ids(get(server, "/api/extensions", tag=["writing", "language"])) == ["spell-check"]


def test_pages_follow_the_stable_order_with_a_next_offset(server: Service) -> None:
    first = get(server, "/api/extensions", limit=2).json()
    second = get(server, "/api/extensions", limit=2, offset=first["next_offset"]).json()
    last = get(server, "/api/extensions", limit=2, offset=4).json()
    assert [i["id"] for i in first["items"] + second["items"]] == ids(
        get(server, "/api/extensions", limit=4)
    )
    assert (first["total"], first["next_offset"], last["next_offset"]) == (5, 2, None)


def test_an_invalid_manifest_is_left_out_of_the_catalog_with_a_warning(server: Service) -> None:
    assert "broken" not in ids(get(server, "/api/extensions", limit=100))
    assert "skipping extensions/broken/1.0.0/manifest.json" in server.logs()


def test_the_manifest_of_the_latest_version_is_served(server: Service) -> None:
    response = get(server, "/api/extensions/spell-check")
    body = response.json()
    assert response.status_code == 200
    assert (body["version"], body["versions"]) == ("0.10.0", ["0.10.0", "0.2.0", "0.1.0"])
    assert body["download_url"] == "/api/extensions/spell-check/download?version=0.10.0"


def test_the_manifest_of_a_requested_version_is_served(server: Service) -> None:
    assert get(server, "/api/layouts/dvorak", version="1.0.0").json()["version"] == "1.0.0"


def test_an_unknown_id_is_404_json(server: Service) -> None:
    response = get(server, "/api/layouts/qwertz")
    assert response.status_code == 404
    assert response.json() == {"error": "No such layout", "id": "qwertz"}


def test_an_unknown_version_is_404_json(server: Service) -> None:
    response = get(server, "/api/layouts/dvorak", version="9.9.9")
    assert (response.status_code, response.json()["error"]) == (404, "No such version")


def test_an_out_of_range_limit_is_400_naming_the_parameter(server: Service) -> None:
    response = get(server, "/api/extensions", limit=1000)
    assert response.status_code == 400
    assert response.json()["field"] == "limit"


@pytest.mark.parametrize("tag", ["Not a tag!", "", "writing,language"])
def test_an_invalid_tag_is_400_naming_the_parameter(server: Service, tag: str) -> None:
    response = get(server, "/api/extensions", tag=tag)
    assert (response.status_code, response.json()["field"]) == (400, "tag")
