"""Nothing personal at rest or in the logs: comments encrypted, addresses only as salted hashes."""

from __future__ import annotations

import uuid
from pathlib import Path

import requests

from tests.integration.feedback.conftest import ADMIN, new_target_id, post_feedback, rating
from tests.support.processes import Service

ADDRESS = "203.0.113.77"  # TEST-NET-3, sent through the trusted proxy (127.0.0.1)


def forms(text: str) -> list[bytes]:
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]


def test_the_database_files_and_logs_hold_neither_the_comment_nor_the_client_address(
    api: Service,
) -> None:
    comment = f"My very private remark {uuid.uuid4().hex}"
    target = new_target_id()
    created = post_feedback(api.url, rating(target, 2, comment=comment), ADDRESS)
    assert created.status_code == 201
    # It was stored: an admin can read it back.
    listed = requests.get(
        f"{api.url}/api/feedback", params={"target_id": target}, headers=ADMIN, timeout=10
    ).json()
    assert listed["items"][0]["comment"] == comment

    database = api.extra["database"]
    assert isinstance(database, Path)
    files = [database, database.with_name(database.name + "-wal"), api.log_path]
    scanned = [path for path in files if path.exists()]
    assert database.with_name(database.name + "-wal") in scanned  # the write is in the WAL
    for path in scanned:
        data = path.read_bytes()
        for needle in [*forms(comment), *forms(ADDRESS), comment[-16:].encode()]:
            assert needle not in data, f"{needle!r} found in {path.name}"
