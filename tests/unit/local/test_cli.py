from pathlib import Path

import pytest

from sora.local.cli import Backoff, SourceWatcher, components, database_browser


@pytest.mark.parametrize(
    ("failures", "delay"), [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (9, 30.0)]
)
def test_restarts_back_off_by_doubling_up_to_the_limit(failures: int, delay: float) -> None:
    assert Backoff(first=1, limit=30).delay(failures) == delay


def test_a_process_that_ran_long_enough_starts_the_count_again() -> None:
    backoff = Backoff(stable_after=30)
    assert backoff.failures_after_exit(failures=4, ran_for=31) == 1
    assert backoff.failures_after_exit(failures=4, ran_for=2) == 5


def test_the_watcher_reports_changed_added_and_removed_sources(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a = 1\n")
    (tmp_path / "gone.html").write_text("<p>")
    watcher = SourceWatcher(tmp_path)
    assert watcher.changed() == []
    (tmp_path / "a.py").write_text("a = 2  # a different size, whatever the clock says\n")
    (tmp_path / "new.py").write_text("")
    (tmp_path / "gone.html").unlink()
    (tmp_path / "notes.txt").write_text("not a source")
    assert watcher.changed() == [tmp_path / "a.py", tmp_path / "gone.html", tmp_path / "new.py"]
    assert watcher.changed() == []


def test_with_s3_the_file_server_reads_the_bucket_on_the_s3_server(tmp_path: Path) -> None:
    secrets = dict.fromkeys(("IP_SALT", "ENCRYPTION_KEY", "ADMIN_TOKEN", "SESSION_SECRET"), "x")
    file_server = components(tmp_path, secrets, 8080, 3000, "http://127.0.0.1:3003")[0]
    assert file_server.env["STORAGE_BACKEND"] == "s3"
    assert file_server.env["S3_ENDPOINT_URL"] == "http://127.0.0.1:3003"
    assert "STORAGE_DIR" not in file_server.env


def test_the_database_browser_is_not_opened_immutable(tmp_path: Path) -> None:
    # immutable=1 would let SQLite skip its locks on a file the feedback API writes.
    assert "--immutable" not in database_browser(tmp_path / "feedback.db", 8081).command
