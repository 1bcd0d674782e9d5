"""One ordered list of migrations for both engines."""

from __future__ import annotations

from sora.feedback import schema_migrations


def test_every_migration_exists_for_both_engines_under_the_same_name() -> None:
    sqlite = [(m.version, m.name) for m in schema_migrations.available("sqlite")]
    postgresql = [(m.version, m.name) for m in schema_migrations.available("postgresql")]
    assert sqlite == postgresql
    assert [version for version, _ in sqlite] == list(range(1, len(sqlite) + 1))
