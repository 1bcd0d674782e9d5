import requests

from tests.integration.fileserver.conftest import sha256
from tests.support.processes import Service

DOWNLOAD = "/api/extensions/emoji-picker/download"


def manifest(server: Service, path: str = "/api/extensions/emoji-picker") -> dict[str, object]:
    body: dict[str, object] = requests.get(server.url + path, timeout=10).json()
    return body


def download(
    server: Service, headers: dict[str, str] | None = None, **params: str
) -> requests.Response:
    return requests.get(server.url + DOWNLOAD, headers=headers, params=params, timeout=10)


def test_a_download_is_the_package_the_manifest_describes(server: Service) -> None:
    response = download(server)
    expected = manifest(server)
    assert response.status_code == 200
    assert sha256(response.content) == expected["sha256"]
    assert response.headers["Content-Length"] == str(expected["size"])
    assert response.headers["ETag"] == f'"{expected["sha256"]}"'
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Accept-Ranges"] == "bytes"


def test_a_download_is_an_attachment_named_after_id_and_version(server: Service) -> None:
    disposition = download(server).headers["Content-Disposition"]
    assert disposition == 'attachment; filename="emoji-picker-1.0.0.zip"'


def test_the_latest_download_is_cached_briefly_and_a_pinned_one_forever(server: Service) -> None:
    assert download(server).headers["Cache-Control"] == "public, max-age=60"
    pinned = download(server, version="0.9.0")
    assert pinned.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_requested_version_is_downloaded(server: Service) -> None:
    response = download(server, version="0.9.0")
    expected = manifest(server, "/api/extensions/emoji-picker?version=0.9.0")
    assert sha256(response.content) == expected["sha256"]


def test_a_matching_if_none_match_is_304_without_a_body(server: Service) -> None:
    etag = download(server).headers["ETag"]
    response = download(server, {"If-None-Match": etag})
    assert (response.status_code, response.content) == (304, b"")
    assert response.headers["ETag"] == etag


def test_a_range_is_206_with_exactly_those_bytes(server: Service) -> None:
    whole = download(server).content
    response = download(server, {"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.content == whole[100:200]
    assert response.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert response.headers["Content-Length"] == "100"


def test_a_suffix_range_is_the_end_of_the_package(server: Service) -> None:
    whole = download(server).content
    assert download(server, {"Range": "bytes=-22"}).content == whole[-22:]


def test_a_range_past_the_end_is_416_json_with_the_size(server: Service) -> None:
    size = manifest(server)["size"]
    response = download(server, {"Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"
    assert response.json() == {"error": "Range not satisfiable"}


def test_a_range_with_a_stale_if_range_gets_the_whole_package(server: Service) -> None:
    response = download(server, {"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert response.status_code == 200
    assert len(response.content) == manifest(server)["size"]


def test_head_answers_the_download_headers_without_a_body(server: Service) -> None:
    response = requests.head(server.url + DOWNLOAD, timeout=10)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Length"] == str(manifest(server)["size"])
    assert response.headers["ETag"] == f'"{manifest(server)["sha256"]}"'


def test_a_package_that_fails_its_sha256_check_is_refused_with_502(server: Service) -> None:
    response = requests.get(server.url + "/api/extensions/tampered/download", timeout=10)
    assert response.status_code == 502
    assert response.json() == {"error": "Package failed its integrity check"}
    assert "refusing extensions/tampered/1.0.0/package.zip" in server.logs()


def test_layouts_download_like_extensions(server: Service) -> None:
    response = requests.get(server.url + "/api/layouts/jis-kana/download", timeout=10)
    assert response.status_code == 200
    assert response.content[:2] == b"PK"
