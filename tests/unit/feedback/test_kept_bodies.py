"""The rendered bodies the public reads keep between commits (see ``_PublicRead``)."""

from __future__ import annotations

from sora.feedback.domain import KeptBodies


def test_a_body_is_kept_under_its_key_only() -> None:
    kept = KeptBodies()
    kept.keep(("v1", "query"), b"one")
    assert kept.get(("v1", "query")) == b"one"
    assert kept.get(("v2", "query")) is None


def test_a_none_key_keeps_nothing() -> None:
    """An engine that cannot tell when data changed gives no key: every read is fresh."""
    kept = KeptBodies()
    kept.keep(None, b"body")
    assert kept.get(None) is None


def test_past_its_size_it_starts_again_with_the_newest_body() -> None:
    kept = KeptBodies(size=2)
    for version in range(3):
        kept.keep(version, f"body {version}".encode())
    assert [kept.get(version) for version in range(3)] == [None, None, b"body 2"]
