"""``sora up`` as the tests run it: a fresh working directory, free ports, real processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


@contextlib.contextmanager
def sora_up(workdir: Path, *flags: str, timeout: float = 120) -> Iterator[Platform]:
    """``sora up FLAGS`` in ``workdir``, ready behind its gateway; killed afterwards."""
    port = free_port()
    base_port = free_port_run(3)  # file server, feedback API, admin panel
    command = [program("sora"), "up", "--port", str(port), "--base-port", str(base_port), *flags]
    with (workdir / "up.log").open("wb") as log:
        process = subprocess.Popen(
            command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    platform = Platform(f"http://127.0.0.1:{port}", port, base_port, workdir, process)
    try:
        wait_until_ready(platform.url + "/health", process, timeout=timeout, log=platform.log)
        yield platform
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
