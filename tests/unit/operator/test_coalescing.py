"""One reconcile at a time per SoraDeployment; requests meanwhile coalesce into one more run."""

from __future__ import annotations

import threading

import pytest

from sora_operator.coalescing import CoalescingRunner


def test_an_idle_key_runs_at_once_and_returns_the_result() -> None:
    assert CoalescingRunner().run("a", lambda: 42) == 42


def test_requests_during_a_run_coalesce_into_one_more_run() -> None:
    runner = CoalescingRunner()
    started, release = threading.Event(), threading.Event()
    runs: list[int] = []

    def slow() -> None:
        runs.append(1)
        if len(runs) == 1:
            started.set()
            release.wait(5)

    first = threading.Thread(target=runner.run, args=("a", slow))
    first.start()
    started.wait(5)
    assert [runner.run("a", slow) for _ in range(5)] == [None] * 5
    release.set()
    first.join(5)
    assert len(runs) == 2


def test_two_keys_run_independently() -> None:
    runner = CoalescingRunner()
    inner: list[object] = []
    runner.run("a", lambda: inner.append(runner.run("b", lambda: "b ran")))
    assert inner == ["b ran"]


def test_runs_of_one_key_never_overlap() -> None:
    runner = CoalescingRunner()
    active, overlaps = [0], [0]
    lock = threading.Lock()

    def reconcile() -> None:
        with lock:
            active[0] += 1
            overlaps[0] = max(overlaps[0], active[0])
        threading.Event().wait(0.001)
        with lock:
            active[0] -= 1

    threads = [threading.Thread(target=runner.run, args=("a", reconcile)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert overlaps[0] == 1


def test_a_failed_run_raises_and_frees_the_key() -> None:
    runner = CoalescingRunner()

    def fail() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        runner.run("a", fail)
    assert runner.run("a", lambda: "again") == "again"


def test_depth_counts_keys_running_or_waiting() -> None:
    runner = CoalescingRunner()
    seen: list[int] = []
    runner.run("a", lambda: seen.append(runner.depth()))
    assert (seen, runner.depth()) == ([1], 0)


def test_a_closed_runner_refuses_new_runs() -> None:
    runner = CoalescingRunner()
    assert runner.close(timeout=1)
    assert runner.run("a", lambda: "ran") is None
