"""A server under the CPU and memory its pod gets in prod, on this machine (cgroup v1).

A pod's ``limits.cpu: 512m`` is a CFS quota of 51.2 ms per 100 ms period and
``limits.memory: 1Gi`` a hard memory limit; the kubelet puts the container's
processes in cgroups with those settings. :class:`Cgroup` does the same here:
one cgroup in the ``cpu`` and one in the ``memory`` hierarchy, named after the
benchmark, removed again afterwards. :meth:`Cgroup.wrap` prefixes a command so
that it joins the cgroups *before* it starts (gunicorn's workers and Bun's
processes are forked inside, as in a container); the load generator stays
outside.

    with Cgroup("sora-bench-fileserver", cpu="512m", memory="1Gi") as pod:
        start_process(pod.wrap(["sora-file-server"]), ...)
        pod.cpu_seconds()          # CPU used by everything inside so far (cpuacct)

Needs root and the cgroup v1 hierarchies under /sys/fs/cgroup (:func:`available`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("cpu", "cpuacct", "memory")
PERIOD_US = 100_000
_MEMORY_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9}


def millicores(cpu: str) -> int:
    """A Kubernetes CPU quantity (``512m``, ``1``, ``0.5``) in millicores."""
    return int(cpu[:-1]) if cpu.endswith("m") else round(float(cpu) * 1000)


def memory_bytes(memory: str) -> int:
    """A Kubernetes memory quantity (``1Gi``, ``512Mi``, ``100M``) in bytes."""
    for suffix, factor in _MEMORY_UNITS.items():
        if memory.endswith(suffix):
            return int(float(memory[: -len(suffix)]) * factor)
    return int(memory)


def available() -> str | None:
    """Why cgroups cannot be used here, or None when they can."""
    if os.geteuid() != 0:
        return "not root"
    missing = [name for name in CONTROLLERS if not (ROOT / name / "cgroup.procs").exists()]
    if missing:
        return f"no cgroup v1 hierarchy for {', '.join(missing)} under {ROOT}"
    return None


class Cgroup:
    """cgroups ``NAME`` in the cpu, cpuacct and memory hierarchies with a pod's limits."""

    def __init__(self, name: str, cpu: str, memory: str | None = None) -> None:
        self.name = name
        self.cpu = cpu
        self.memory = memory

    @property
    def cpus(self) -> float:
        return millicores(self.cpu) / 1000

    def path(self, controller: str) -> Path:
        return ROOT / controller / self.name

    def __enter__(self) -> Cgroup:
        reason = available()
        if reason:
            raise RuntimeError(f"cannot limit CPU with cgroups: {reason}")
        for controller in CONTROLLERS:
            self.path(controller).mkdir(exist_ok=True)
        quota = millicores(self.cpu) * PERIOD_US // 1000
        (self.path("cpu") / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (self.path("cpu") / "cpu.cfs_quota_us").write_text(str(quota))
        limit = memory_bytes(self.memory) if self.memory else -1
        (self.path("memory") / "memory.limit_in_bytes").write_text(str(limit))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()

    def wrap(self, command: list[str]) -> list[str]:
        """``command``, run inside these cgroups from its first instruction.

        A shell joins the cgroups with its own pid, then ``exec``s the command in
        place, so the command and everything it forks start inside.
        """
        joins = "; ".join(
            f"echo $$ > {self.path(controller) / 'cgroup.procs'}" for controller in CONTROLLERS
        )
        return ["/bin/sh", "-c", f'{joins}; exec "$@"', "sh", *command]

    def cpu_seconds(self) -> float:
        """CPU time used by every process that ran inside so far."""
        return int((self.path("cpuacct") / "cpuacct.usage").read_text()) / 1e9

    def periods(self) -> tuple[int, int]:
        """CFS periods so far: how many had runnable processes, and how many of those the
        quota cut short (``nr_periods``, ``nr_throttled``)."""
        stat = dict(
            line.split(" ", 1) for line in (self.path("cpu") / "cpu.stat").read_text().splitlines()
        )
        return int(stat["nr_periods"]), int(stat["nr_throttled"])

    def memory_peak_bytes(self) -> int:
        return int((self.path("memory") / "memory.max_usage_in_bytes").read_text())

    def remove(self) -> None:
        """Remove the cgroups once the processes inside are gone (waits up to 10 s)."""
        deadline = time.monotonic() + 10
        for controller in CONTROLLERS:
            path = self.path(controller)
            while path.exists():
                try:
                    path.rmdir()
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
