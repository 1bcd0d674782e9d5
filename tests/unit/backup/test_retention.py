from datetime import UTC, datetime, timedelta

from sora.backup.retention import BackupObject, to_delete

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def backup(days_old: int, verified: bool = True) -> BackupObject:
    return BackupObject(f"b-{days_old}", NOW - timedelta(days=days_old), 1, verified)


def keys(objects: list[BackupObject]) -> set[str]:
    return {o.key for o in objects}


def test_backups_older_than_the_retention_are_deleted() -> None:
    backups = [backup(1), backup(10), backup(31), backup(45)]
    assert keys(to_delete(backups, NOW, retention_days=30, keep_copies=1)) == {"b-31", "b-45"}


def test_the_newest_copies_are_kept_whatever_their_age() -> None:
    backups = [backup(40), backup(50), backup(60)]
    assert keys(to_delete(backups, NOW, retention_days=30, keep_copies=2)) == {"b-60"}


def test_the_newest_verified_backup_is_never_deleted() -> None:
    backups = [backup(1, verified=False), backup(2, verified=False), backup(90, verified=True)]
    assert keys(to_delete(backups, NOW, retention_days=30, keep_copies=1)) == set()


def test_zero_retention_days_prunes_by_count_only() -> None:
    backups = [backup(0), backup(1), backup(2)]
    assert keys(to_delete(backups, NOW, retention_days=0, keep_copies=2)) == {"b-2"}


def test_nothing_to_delete_in_an_empty_bucket() -> None:
    assert to_delete([], NOW, retention_days=30, keep_copies=1) == []
