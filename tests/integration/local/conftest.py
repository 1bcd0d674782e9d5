"""``sora up`` as the tests run it: a fresh working directory, free ports, real processes."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import free_port, free_port_run, program, wait_until_ready


@dataclass(frozen=True)
class Platform:
    """A running ``sora up``: the gateway's URL, the services' ports, its directory and log."""

    url: str
    port: int
    base_port: int
    workdir: Path
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        return self.workdir / "up.log"

    def service_url(self, offset: int) -> str:
        """A service's own URL: 0 file server, 1 feedback API, 2 admin panel."""
        return f"http://127.0.0.1:{self.base_port + offset}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def pids(self, name: str) -> list[int]:
        """The pids ``sora up`` reported for ``name``, one per start, in order."""
        pattern = re.compile(rf"^sora: {re.escape(name)} running on :\d+ \(pid (\d+)\)$", re.M)
        return [int(pid) for pid in pattern.findall(self.output())]

    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = 90) -> None:
        """Poll ``predicate`` until it holds; fail naming ``what`` with the log's tail."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.2)
        raise AssertionError(f"{what}: not within {timeout:.0f}s\n{self.output()[-3000:]}")


@contextlib.contextmanager
def sora_up(
    workdir: Path, *flags: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> Iterator[Platform]:
    """``sora up FLAGS`` in ``workdir``, ready behind its gateway; stopped afterwards."""
    port = free_port()
    base_port = free_port_run(4)  # file server, feedback API, admin panel, S3 server
    command = [program("sora"), "up", "--port", str(port), "--base-port", str(base_port), *flags]
    with (workdir / "up.log").open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    platform = Platform(f"http://127.0.0.1:{port}", port, base_port, workdir, process)
    try:
        wait_until_ready(platform.url + "/health", process, timeout=timeout, log=platform.log)
        # Every component is up only once sora up says so (the gateway answers earlier).
        platform.wait_for(lambda: "sora: platform running on" in platform.output(), "started")
        yield platform
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """One ``sora up`` shared by tests that only send it requests; a module that stops or
    edits its platform defines its own ``platform``."""
    with sora_up(tmp_path_factory.mktemp("shared-platform")) as running:
        yield running
