import pytest
from hypothesis import given
from hypothesis import strategies as st

from sora.fileserver.ranges import ByteRange, Unsatisfiable, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", ByteRange(0, 99, 1000)),
        ("bytes=100-", ByteRange(100, 999, 1000)),
        ("bytes=-100", ByteRange(900, 999, 1000)),
        ("bytes=990-5000", ByteRange(990, 999, 1000)),
        ("bytes=-5000", ByteRange(0, 999, 1000)),
        ("bytes=999-999", ByteRange(999, 999, 1000)),
    ],
)
def test_single_ranges_are_clamped_to_the_file(header: str, expected: ByteRange) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-2000", "bytes=-0"])
def test_ranges_outside_the_file_are_unsatisfiable(header: str) -> None:
    assert parse_range(header, 1000) == Unsatisfiable(1000)


@pytest.mark.parametrize(
    "header",
    [None, "", "bytes=", "bytes=-", "bytes=5-1", "items=0-1", "bytes=0-1,5-6", "bytes=a-b"],
)
def test_absent_invalid_or_multiple_ranges_mean_the_whole_file(header: str | None) -> None:
    assert parse_range(header, 1000) is None


def test_content_range_headers_name_the_bytes_and_the_size() -> None:
    assert ByteRange(0, 9, 100).content_range() == "bytes 0-9/100"
    assert Unsatisfiable(100).content_range() == "bytes */100"


def test_an_empty_file_satisfies_no_range() -> None:
    assert parse_range("bytes=-1", 0) == Unsatisfiable(0)
    assert parse_range("bytes=0-", 0) == Unsatisfiable(0)


@given(st.text(max_size=40), st.integers(0, 10**12))
def test_any_header_yields_whole_file_unsatisfiable_or_a_range_inside_the_file(
    header: str, size: int
) -> None:
    result = parse_range(header, size)
    if isinstance(result, ByteRange):
        assert 0 <= result.start <= result.end < size
        assert result.length == result.end - result.start + 1
    else:
        assert result is None or result == Unsatisfiable(size)


@given(st.integers(1, 10**9), st.data())
def test_a_range_inside_the_file_is_served_exactly(size: int, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, size - 1))
    end = data.draw(st.integers(start, size - 1))
    assert parse_range(f"bytes={start}-{end}", size) == ByteRange(start, end, size)


@given(st.integers(0, 10**9), st.integers(1, 10**10))
def test_a_suffix_range_is_the_last_bytes_of_the_file(size: int, suffix: int) -> None:
    result = parse_range(f"bytes=-{suffix}", size)
    if size == 0:
        assert result == Unsatisfiable(0)
    else:
        assert result == ByteRange(max(0, size - suffix), size - 1, size)
