"""kubectl-sora's pure parts: what it sends and what it shows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sora_operator import plugin

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
CRONJOB: dict[str, Any] = {
    "metadata": {"name": "shop-backup", "namespace": "sora", "uid": "u-1"},
    "spec": {
        "jobTemplate": {
            "metadata": {"labels": {"app.kubernetes.io/component": "backup"}},
            "spec": {"backoffLimit": 0, "template": {"spec": {"containers": []}}},
        }
    },
}


def test_a_backup_now_is_the_cronjobs_template_owned_by_it() -> None:
    job = plugin.backup_job(CRONJOB, NOW)
    assert job["metadata"]["name"] == "shop-backup-now-20261128093000"
    assert job["metadata"]["labels"] == {"app.kubernetes.io/component": "backup"}
    assert job["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    assert job["spec"] == CRONJOB["spec"]["jobTemplate"]["spec"]


def test_a_restore_request_sets_only_spec_restore_with_a_new_request_id() -> None:
    latest = plugin.restore_request("shop", "sora", NOW)
    assert latest["spec"] == {
        "restore": {"requestId": "kubectl-sora-20261128T093000Z", "from": "latest"}
    }
    assert (
        plugin.restore_request("shop", "sora", NOW, key="k.db.gz")["spec"]["restore"]["from"]
        == "k.db.gz"
    )
    assert (
        plugin.restore_request("shop", "sora", NOW, replica=True)["spec"]["restore"]["from"]
        == "replica"
    )
    timed = plugin.restore_request("shop", "sora", NOW, to_time="2026-11-28T09:15:00Z")
    assert timed["spec"]["restore"]["toTime"] == "2026-11-28T09:15:00Z"


def test_status_lines_show_conditions_backups_and_replication() -> None:
    body = {
        "metadata": {"name": "shop", "namespace": "sora"},
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": "ok"}],
            "lastBackup": {"result": "success", "time": "t", "key": "k", "verified": True},
            "replication": {"lagSeconds": 1.2, "message": ""},
        },
    }
    text = "\n".join(plugin.status_lines(body))
    assert "Ready            True" in text
    assert "last backup      success t k verified=True" in text
    assert "replication      lag 1.2 s" in text


def test_backups_lists_finished_jobs_newest_first_with_their_outcome() -> None:
    def job(name: str, when: str) -> dict[str, Any]:
        return {
            "metadata": {"name": name},
            "status": {
                "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": when}]
            },
        }

    running = {"metadata": {"name": "c"}, "status": {}}
    rows = plugin.backup_rows(
        [job("a", "2026-11-27T03:00:00Z"), job("b", "2026-11-28T03:00:00Z"), running], []
    )
    assert [(row["job"], row["result"]) for row in rows] == [("b", "success"), ("a", "success")]
    assert plugin.backup_table(rows)[0].startswith("TIME")


def test_the_sidecars_logs_are_in_the_feedback_api_pod() -> None:
    selector, container = plugin.pod_and_container("shop", "replicate")
    assert "app.kubernetes.io/component=feedback-api" in selector
    assert container == "replicate"
    assert plugin.pod_and_container("shop", "backup")[1] == "create"


def test_backup_and_restore_are_refused_on_postgresql() -> None:
    def body(database: dict[str, Any]) -> dict[str, Any]:
        return {"metadata": {"name": "shop"}, "spec": {"feedbackApi": {"database": database}}}

    refusal = plugin.database_refusal(body({"engine": "postgresql"}))
    assert refusal is not None
    assert "PostgreSQL" in refusal
    assert plugin.database_refusal(body({"engine": "sqlite"})) is None
    assert plugin.database_refusal({"metadata": {"name": "shop"}, "spec": {}}) is None
