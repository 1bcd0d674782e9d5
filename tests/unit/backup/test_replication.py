from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sora.backup import replication
from sora.backup.settings import BackupSettings
from sora.backup.sqlite import BackupError
from sora_contract.settings import ConfigError, Env

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def settings(**env: str) -> BackupSettings:
    return BackupSettings.from_env(
        Env({"BACKUP_BUCKET": "sora-backups", "DATABASE_PATH": "/data/feedback.db", **env})
    )


def test_litestream_replicates_to_its_own_prefix_with_snapshots_kept_retention_days() -> None:
    config = replication.litestream_config(
        settings(BACKUP_RETENTION_DAYS="14", BACKUP_REPLICA_PREFIX="replica/prod/"), "a:1"
    )
    (database,) = config["dbs"]
    assert database["path"] == "/data/feedback.db"
    assert database["replica"] == {
        "type": "s3",
        "bucket": "sora-backups",
        "path": "replica/prod",
        "sync-interval": "1s",
    }
    assert config["snapshot"] == {"interval": "24h", "retention": "336h"}


def test_an_s3_compatible_endpoint_gets_path_style_addressing() -> None:
    config = replication.litestream_config(
        settings(S3_ENDPOINT_URL="http://127.0.0.1:5000", AWS_REGION="us-east-1"), "a:1"
    )
    replica = config["dbs"][0]["replica"]
    assert (replica["endpoint"], replica["force-path-style"], replica["region"]) == (
        "http://127.0.0.1:5000",
        True,
        "us-east-1",
    )


def test_retention_by_count_only_still_keeps_a_day_of_replica() -> None:
    config = replication.litestream_config(settings(BACKUP_RETENTION_DAYS="0"), "a:1")
    assert config["snapshot"] == {"interval": "24h", "retention": "24h"}


@pytest.mark.parametrize(
    ("replica_prefix", "message"),
    [("database/", "overlap"), ("../elsewhere", "relative key prefix"), ("/", "non-empty")],
)
def test_a_replica_prefix_that_is_not_its_own_is_refused(replica_prefix: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings(BACKUP_REPLICA_PREFIX=replica_prefix)


def test_the_ca_bundle_litestream_cannot_load_is_left_out_of_its_environment() -> None:
    environment = {"AWS_CA_BUNDLE": "/etc/ca.pem", "AWS_REGION": "eu-west-1"}
    assert replication.litestream_environment(environment) == {"AWS_REGION": "eu-west-1"}


def test_lag_counts_from_when_the_oldest_unreplicated_transaction_was_seen() -> None:
    tracker = replication.LagTracker()
    assert tracker.observe(100.0, local_txid=5, replica_txid=5) == 0.0
    assert tracker.observe(101.0, local_txid=7, replica_txid=5) == 0.0
    assert tracker.observe(102.0, local_txid=9, replica_txid=5) == 1.0
    assert tracker.observe(103.0, local_txid=9, replica_txid=7) == 1.0  # 9 seen at 102
    assert tracker.observe(104.0, local_txid=9, replica_txid=9) == 0.0


def test_a_replica_that_stops_moving_shows_a_growing_lag() -> None:
    tracker = replication.LagTracker()
    lags = [tracker.observe(t, local_txid=10 + t, replica_txid=3) for t in range(0, 120, 30)]
    assert lags == [0.0, 30.0, 60.0, 90.0]


def test_txid_of_an_ltx_key_is_its_last_transaction() -> None:
    key = "replica/prod/0000/000000000000002a-0000000000000031.ltx"
    assert replication.txid_of_key(key) == 0x31


def test_local_txid_is_read_from_litestreams_metrics_for_our_database() -> None:
    text = (
        'litestream_txid{db="/data/other.db"} 3\n'
        'litestream_txid{db="/data/feedback.db"} 42\n'
        'litestream_db_size{db="/data/feedback.db"} 8192\n'
    )
    assert replication.local_txid(text, Path("/data/feedback.db")) == 42
    assert replication.local_txid(text, Path("/data/missing.db")) is None


def files(*entries: tuple[int, str]) -> list[dict[str, object]]:
    return [{"level": level, "timestamp": stamp} for level, stamp in entries]


def test_the_window_runs_from_the_oldest_snapshot_to_the_newest_file() -> None:
    window = replication.retained_window(
        files((9, "2026-11-20T03:00:00Z"), (9, "2026-11-27T03:00:00Z"), (0, "2026-11-28T08:59:59Z"))
    )
    assert window == replication.RetainedWindow(
        datetime(2026, 11, 20, 3, tzinfo=UTC), datetime(2026, 11, 28, 8, 59, 59, tzinfo=UTC)
    )
    assert replication.retained_window(files((0, "2026-11-28T08:59:59Z"))) is None


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        (NOW - timedelta(days=9), "outside the retained window"),
        (NOW + timedelta(seconds=1), "in the future"),
    ],
)
def test_a_time_outside_the_window_is_refused(when: datetime, reason: str) -> None:
    window = replication.RetainedWindow(NOW - timedelta(days=8), NOW - timedelta(seconds=1))
    assert reason in replication.refusal(when, NOW, window, "s3://b/replica")


def test_a_time_inside_the_window_or_after_its_last_file_is_accepted() -> None:
    window = replication.RetainedWindow(NOW - timedelta(days=8), NOW - timedelta(minutes=5))
    assert replication.refusal(NOW - timedelta(days=1), NOW, window, "s3://b/r") == ""
    assert replication.refusal(NOW - timedelta(minutes=1), NOW, window, "s3://b/r") == ""
    assert "no replica" in replication.refusal(NOW, NOW, None, "s3://b/r")


def test_points_in_time_are_rfc3339_with_an_offset() -> None:
    assert replication.parse_point_in_time("2026-11-28T18:15:00+09:00") == datetime(
        2026, 11, 28, 9, 15, tzinfo=UTC
    )
    with pytest.raises(BackupError, match="no offset"):
        replication.parse_point_in_time("2026-11-28T09:15:00")
