import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sora.fileserver.cache import DiskCache, IntegrityError
from sora.fileserver.storage import Sink


def blob(n: int, size: int = 1000) -> bytes:
    return bytes([n % 256]) * size


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Source:
    """Counts fetches; serves ``data`` (or ``served`` when it differs from the manifest)."""

    def __init__(self, data: bytes, served: bytes | None = None, delay: float = 0) -> None:
        self.data = data
        self.served = data if served is None else served
        self.delay = delay
        self.fetches = 0

    def __call__(self, out: Sink) -> None:
        self.fetches += 1
        time.sleep(self.delay)
        out.write(self.served)


def read(cache: DiskCache, source: Source) -> tuple[bytes, bool]:
    lookup = cache.open(sha(source.data), len(source.data), source)
    with lookup.file:
        return lookup.file.read(), lookup.hit


@pytest.fixture
def evicted() -> list[int]:
    return []


@pytest.fixture
def make_cache(tmp_path: Path, evicted: list[int]) -> Callable[[int], DiskCache]:
    return lambda max_bytes: DiskCache(tmp_path / "cache", max_bytes, on_evict=evicted.append)


def test_first_open_fetches_and_the_second_is_a_hit(make_cache: Callable[[int], DiskCache]) -> None:
    cache, source = make_cache(10_000), Source(blob(1))
    assert read(cache, source) == (source.data, False)
    assert read(cache, source) == (source.data, True)
    assert source.fetches == 1


def test_content_not_matching_the_sha256_is_refused_and_not_kept(
    make_cache: Callable[[int], DiskCache], tmp_path: Path
) -> None:
    cache = make_cache(10_000)
    source = Source(blob(1), served=blob(2))
    with pytest.raises(IntegrityError, match="sha256"):
        read(cache, source)
    assert cache.usage() == 0
    assert not any((tmp_path / "cache" / "objects").iterdir())


def test_content_longer_than_the_manifest_size_is_refused(
    make_cache: Callable[[int], DiskCache],
) -> None:
    source = Source(blob(1), served=blob(1) + b"extra")
    with pytest.raises(IntegrityError, match="bytes"):
        read(make_cache(10_000), source)


def test_content_shorter_than_the_manifest_size_is_refused(
    make_cache: Callable[[int], DiskCache],
) -> None:
    source = Source(blob(1), served=blob(1)[:-1])
    with pytest.raises(IntegrityError, match="bytes"):
        read(make_cache(10_000), source)


def test_the_least_recently_used_object_is_evicted_first(
    make_cache: Callable[[int], DiskCache], evicted: list[int]
) -> None:
    cache = make_cache(3000)
    first, second, third = Source(blob(1)), Source(blob(2)), Source(blob(3))
    for source in (first, second, third):
        read(cache, source)
        time.sleep(0.01)
    read(cache, first)  # touch: now second is the least recently used
    read(cache, Source(blob(4)))
    assert evicted == [1000]
    assert read(cache, first)[1] is True
    assert read(cache, third)[1] is True
    assert read(cache, second)[1] is False


def test_usage_never_exceeds_the_bound(make_cache: Callable[[int], DiskCache]) -> None:
    cache = make_cache(2500)
    for n in range(10):
        read(cache, Source(blob(n)))
        assert cache.usage() <= 2500


def test_a_package_larger_than_the_cache_is_served_verified_without_being_kept(
    make_cache: Callable[[int], DiskCache],
) -> None:
    cache, source = make_cache(500), Source(blob(1))
    assert read(cache, source) == (source.data, False)
    assert cache.usage() == 0
    assert read(cache, source)[1] is False


def test_concurrent_misses_fetch_once(make_cache: Callable[[int], DiskCache]) -> None:
    cache, source = make_cache(10_000), Source(blob(1), delay=0.2)
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(read(cache, source)[0])) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [source.data] * 4
    assert source.fetches == 1


def test_stale_partial_downloads_are_removed_when_room_is_made(
    tmp_path: Path, make_cache: Callable[[int], DiskCache]
) -> None:
    cache = make_cache(1500)
    leftover = tmp_path / "cache" / "partial" / "killed-worker"
    leftover.write_bytes(b"x" * 1000)
    os.utime(leftover, (0, 0))
    read(cache, Source(blob(1)))
    assert not leftover.exists()


def test_a_truncated_cached_file_is_fetched_again(
    tmp_path: Path, make_cache: Callable[[int], DiskCache]
) -> None:
    cache, source = make_cache(10_000), Source(blob(1))
    read(cache, source)
    (tmp_path / "cache" / "objects" / sha(source.data)).write_bytes(b"short")
    assert read(cache, source) == (source.data, False)
