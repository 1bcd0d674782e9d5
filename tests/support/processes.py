"""Real processes for integration tests: start, wait until ready, stop, never leak.

Every child gets ``PR_SET_PDEATHSIG`` so that a test run killed with SIGKILL
takes its servers down with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    os.setpgrp()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_run(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports, below the ephemeral range.

    For programs that take a base port and use the next ones too: the kernel hands
    out ephemeral ports to outgoing connections at any moment, so a run chosen
    inside that range can be taken before the program binds it.
    """
    low = _ephemeral_low()
    for _ in range(200):
        base = random.randint(10000, low - count)
        if all(_is_free(base + offset) for offset in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports below {low}")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_until_ready(
    url: str, process: subprocess.Popen[bytes], timeout: float = 30.0, log: Path | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(errors="replace")[-4000:] if log else ""
            raise RuntimeError(f"process exited with {process.returncode} before ready:\n{output}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout}s")


@dataclass
class Service:
    """A running server process; ``url`` is its base URL on loopback."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    port: int
    extra: dict[str, object] = field(default_factory=dict)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signal the whole process group (gunicorn master and workers)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def start_process(
    command: Sequence[str],
    env: Mapping[str, str],
    log_path: Path,
    port: int,
    ready_path: str = "/health",
    timeout: float = 30.0,
    cwd: Path | None = None,
) -> Service:
    """Start a server that listens on ``port`` and wait until ``ready_path`` answers."""
    log_file = log_path.open("ab")
    process = subprocess.Popen(
        list(command),
        env={**os.environ, **env},
        stdout=log_file,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - needed for PDEATHSIG
        cwd=cwd,
    )
    log_file.close()
    service = Service(process, f"http://127.0.0.1:{port}", log_path, port)
    try:
        wait_until_ready(service.url + ready_path, process, timeout, log_path)
    except BaseException:
        service.stop()
        raise
    return service


@contextlib.contextmanager
def running(
    command: Sequence[str],
    env: Mapping[str, str],
    log_path: Path,
    ready_path: str,
    port: int,
    timeout: float = 30.0,
) -> Iterator[Service]:
    """Start ``command`` (which must listen on ``port``), wait for ``ready_path``, stop after."""
    service = start_process(command, env, log_path, port, ready_path, timeout)
    try:
        yield service
    finally:
        service.stop()


def program(name: str) -> str:
    """A console script from the project's environment."""
    return str(VENV_BIN / name)
