"""``sora-backup verify --decrypt --key-file``: a backup of a real feedback API's database
opens with the escrowed ENCRYPTION_KEY, and is refused with any other key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.feedback.conftest import (
    ENCRYPTION_KEY,
    feedback_server,
    new_target_id,
    post_feedback,
    rating,
)
from tests.support.processes import Service
from tests.support.replication import backup_cli, replication_env

COMMENTS = 30


@pytest.fixture
def backed_up(
    tmp_path: Path, catalog: Service, s3_env: dict[str, str], s3_bucket: str
) -> dict[str, str]:
    """A verified backup of a database holding comments, and the environment to reach it."""
    with feedback_server(tmp_path, catalog.url) as server:
        for number in range(COMMENTS):
            body = rating(new_target_id(), number % 5 + 1, comment=f"comment {number}")
            assert post_feedback(server.url, body).status_code == 201
        assert post_feedback(server.url, rating(new_target_id(), 4)).status_code == 201
    env = replication_env(s3_env, s3_bucket, tmp_path / "feedback.db")
    status, _, stderr = backup_cli(env, "create")
    assert status == 0, stderr
    return env


def test_a_backup_decrypts_with_the_escrowed_key(backed_up: dict[str, str], tmp_path: Path) -> None:
    key_file = tmp_path / "escrow.json"  # as Secrets Manager holds the platform secret
    key_file.write_text(json.dumps({"ENCRYPTION_KEY": ENCRYPTION_KEY, "IP_SALT": "x"}))

    status, outcome, stderr = backup_cli(
        backed_up, "verify", "--decrypt", "--key-file", str(key_file)
    )

    assert status == 0, stderr
    proof = outcome["decryption"]
    assert proof["commented_rows"] == COMMENTS
    assert proof["decrypted"] == proof["sampled"] >= 15


def test_another_key_is_refused_with_both_key_ids(
    backed_up: dict[str, str], tmp_path: Path
) -> None:
    key_file = tmp_path / "wrong.key"
    key_file.write_text("another-key-of-32-characters-xxxxx\n")

    status, outcome, _ = backup_cli(backed_up, "verify", "--decrypt", "--key-file", str(key_file))

    assert (status, outcome["result"]) == (1, "failed")
    assert "comments are sealed under key id" in outcome["error"]
    assert "the key given has id" in outcome["error"]


def test_decrypt_without_a_key_file_is_refused(backed_up: dict[str, str]) -> None:
    status, outcome, _ = backup_cli(backed_up, "verify", "--decrypt")
    assert status == 1
    assert "--decrypt and --key-file go together" in outcome["error"]
