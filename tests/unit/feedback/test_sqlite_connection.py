from pathlib import Path

from sora.feedback.sqlite import SQLiteStore, connect, prepare_database


def test_connections_checkpoint_the_wal_themselves_by_default(tmp_path: Path) -> None:
    conn = connect(tmp_path / "feedback.db", synchronous="full", busy_timeout_ms=1000)
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)


def test_beside_litestream_no_connection_of_the_store_checkpoints(tmp_path: Path) -> None:
    """Litestream checkpoints after it has copied the WAL; a checkpoint of ours could
    recycle frames it has not read yet."""
    database = tmp_path / "feedback.db"
    prepare_database(database)
    store = SQLiteStore(database, wal_autocheckpoint=0)
    assert store._connect().execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    assert store._connect(read_only=True).execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
