from pathlib import Path

from sora.feedback.settings import StorageSettings
from sora.feedback.sqlite import WAL_AUTOCHECKPOINT_PAGES, connect
from sora_contract.settings import Env


def test_the_writer_checkpoints_every_1000_pages_unless_litestream_does() -> None:
    assert StorageSettings.from_env(Env({})).wal_autocheckpoint == WAL_AUTOCHECKPOINT_PAGES
    beside_litestream = StorageSettings.from_env(Env({"SQLITE_WAL_AUTOCHECKPOINT": "0"}))
    assert beside_litestream.wal_autocheckpoint == 0


def test_a_connection_checkpoints_only_as_told(tmp_path: Path) -> None:
    database = tmp_path / "feedback.db"
    for pages in (0, 1000):
        conn = connect(
            database, synchronous="full", busy_timeout_ms=1000, autocheckpoint_pages=pages
        )
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (pages,)
        conn.close()
