from pathlib import PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sora.fileserver.ids import (
    MAX_ID_LENGTH,
    Version,
    is_valid_file_name,
    is_valid_id,
    is_valid_version,
)

VALID_ID = st.from_regex(r"\A[a-z0-9]{1,8}([._-][a-z0-9]{1,8}){0,5}\Z")


@pytest.mark.parametrize("value", ["a", "emoji-picker", "com.example.tool", "v2_beta", "0"])
def test_plain_ids_are_valid(value: str) -> None:
    assert is_valid_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "..",
        "../etc",
        "a/../b",
        "%2e%2e",
        "/etc/passwd",
        "a\x00b",
        "a..b",
        ".hidden",
        "trailing-",
        "Upper",
        "a b",
        "a\\b",
        "x" * (MAX_ID_LENGTH + 1),
        "emoji-picker\n",
    ],
)
def test_traversal_and_malformed_ids_are_invalid(value: str) -> None:
    assert not is_valid_id(value)


@given(st.text(max_size=80))
def test_a_valid_id_is_always_one_plain_path_segment(value: str) -> None:
    if is_valid_id(value):
        path = PurePosixPath("root", value)
        assert path.parent == PurePosixPath("root")
        assert path.name == value
        assert value not in (".", "..")
        assert "\x00" not in value
        assert len(value) <= MAX_ID_LENGTH


@given(VALID_ID)
def test_ids_built_from_the_documented_grammar_are_valid(value: str) -> None:
    assert is_valid_id(value) == (len(value) <= MAX_ID_LENGTH)


@pytest.mark.parametrize("value", ["package.zip", "layout-v2.tar.gz", "a"])
def test_plain_file_names_are_valid(value: str) -> None:
    assert is_valid_file_name(value)


@pytest.mark.parametrize("value", ["../package.zip", "a/b.zip", ".env", "a..zip", ""])
def test_file_names_with_paths_or_dots_are_invalid(value: str) -> None:
    assert not is_valid_file_name(value)


@pytest.mark.parametrize("value", ["1.0.0", "0.10.2", "2.0.0-rc.1", "1.0.0-alpha-2"])
def test_semver_versions_are_valid(value: str) -> None:
    assert is_valid_version(value)


@pytest.mark.parametrize("value", ["1.0", "01.0.0", "1.0.0+build", "v1.0.0", "1.0.0-", "../1.0.0"])
def test_non_semver_versions_are_invalid(value: str) -> None:
    assert not is_valid_version(value)


def test_versions_sort_by_semver_precedence() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.2.0",
        "1.10.0",
        "2.0.0",
    ]
    shuffled = sorted(ordered, key=hash)
    assert [str(v) for v in sorted(Version.parse(t) for t in shuffled)] == ordered


VERSIONS = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}" + (f"-{pre}" if pre else ""),
    st.integers(0, 30),
    st.integers(0, 30),
    st.integers(0, 30),
    st.sampled_from(["", "alpha", "alpha.1", "beta", "rc.1", "rc.2", "0"]),
)


@given(VERSIONS, VERSIONS)
def test_version_order_agrees_with_numeric_release_order(left: str, right: str) -> None:
    a, b = Version.parse(left), Version.parse(right)
    if (a.major, a.minor, a.patch) != (b.major, b.minor, b.patch):
        assert (a < b) == ((a.major, a.minor, a.patch) < (b.major, b.minor, b.patch))
    assert (a == b) == (left == right)
