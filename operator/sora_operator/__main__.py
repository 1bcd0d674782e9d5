"""``sora-operator``: elect a leader, then run kopf in this process until told to stop.

Exit status: 0 after a clean stop (SIGTERM, SIGINT), 1 when leadership was
lost (Kubernetes restarts the container, which comes back as a standby), 2 for
a bad setting.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import faulthandler
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, Final

import kopf

from sora_contract.logs import configure_logging
from sora_contract.settings import ConfigError
from sora_operator import __version__, clock, handlers, kube
from sora_operator.backups.metrics import BackupTracker
from sora_operator.child_watch import KnownAbsent
from sora_operator.coalescing import CoalescingRunner
from sora_operator.config import OperatorConfig
from sora_operator.hpa_handover import HANDOVER_MANAGER
from sora_operator.kopf_settings import kopf_settings
from sora_operator.leader import LeaderElector
from sora_operator.liveness import standby_liveness
from sora_operator.metrics import OperatorMetrics
from sora_operator.reconcile import Reconciler
from sora_operator.spec import ImageDefaults

PROGRAM: Final = "sora-operator"
EXIT_LEADERSHIP_LOST: Final = 1
EXIT_BAD_SETTING: Final = 2
#: After losing the lease kopf gets this long to stop before the process exits hard.
LOST_LEASE_EXIT_SECONDS: Final = 10.0
#: How long a clean stop waits for running reconciles before releasing the lease.
DRAIN_SECONDS: Final = 20.0

logger = logging.getLogger(PROGRAM)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description=(
            "Reconciles SoraDeployment resources (sora.example.com/v1alpha1) into the Sora "
            "platform. Settings come from SORA_OPERATOR_* environment variables "
            "(docs/operator.md); these flags override them."
        ),
    )
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")
    parser.add_argument(
        "--namespace",
        action="append",
        metavar="NAME",
        help="watch only this namespace (repeatable); default: every namespace",
    )
    parser.add_argument(
        "--kubeconfig", help="kubeconfig file; default: in-cluster, then KUBECONFIG"
    )
    parser.add_argument("--metrics-port", type=int, help="Prometheus /metrics port; 0 turns it off")
    parser.add_argument(
        "--liveness", metavar="URL", help="liveness endpoint, e.g. http://0.0.0.0:8080/healthz"
    )
    parser.add_argument(
        "--no-leader-election",
        action="store_true",
        help="act at once without a Lease (only when a single replica can ever run)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = OperatorConfig.from_env().with_flags(args)
    except ConfigError as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return EXIT_BAD_SETTING
    configure_logging(PROGRAM, "production", config.log_level, config.log_format)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # on-call: dump every stack
    if config.log_level != "DEBUG":
        # kopf logs every handler success and probe at INFO; the operator logs its changes.
        for noisy in ("kopf.objects", "aiohttp.access"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        operator = Operator(config)
    except ConfigError as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return EXIT_BAD_SETTING
    return operator.run()


def _utc_now() -> str:
    """Now, shifted by SORA_OPERATOR_CLOCK_OFFSET_SECONDS when set (a test hook, clock.py)."""
    return clock.text(clock.now(clock.offset()))


class Operator:
    """Wires the pieces together and runs the leader-then-kopf sequence."""

    def __init__(self, config: OperatorConfig) -> None:
        self.config = config
        self.metrics = OperatorMetrics()
        self.stop = threading.Event()
        self.lost = threading.Event()
        self._kopf_task: asyncio.Task[None] | None = None
        self._kopf_loop: asyncio.AbstractEventLoop | None = None
        api = kube.api_client(config.kubeconfig, pool_size=config.workers * 2)
        self.api_configuration = api.configuration
        lease_client = kube.KubeClient(api)
        self.elector = LeaderElector(
            lease_client, config.lease, on_write=self.metrics.lease_writes.inc
        )
        self.cluster = kube.KubeClient(
            api,
            may_write=self._may_write,
            on_write=self.metrics.record_write,
            on_request=self.metrics.record_request,
        )
        self.reconciles = CoalescingRunner()
        self.degraded = handlers.DegradedSet()
        self.metrics.track_leadership(self._may_write)
        self.metrics.track_queue(self.reconciles.depth)
        self.metrics.track_degraded(lambda: len(self.degraded))
        self.backup_tracker = BackupTracker(leading=self._may_write)
        self.backup_tracker.register(self.metrics.registry)

    def _may_write(self) -> bool:
        return not self.config.lease.enabled or self.elector.is_leading()

    def run(self) -> int:
        try:
            self.metrics.serve(self.config.metrics_port)
        except OSError as error:
            print(
                f"{PROGRAM}: cannot serve metrics on port {self.config.metrics_port} "
                f"(SORA_OPERATOR_METRICS_PORT): {error.strerror}",
                file=sys.stderr,
            )
            return EXIT_BAD_SETTING
        self._stop_on_signals()
        if self.config.lease.enabled and not self._wait_for_leadership():
            return 0
        renewer = self._start_renewing()
        try:
            self._run_kopf()
        finally:
            self._shut_down(renewer)
        return EXIT_LEADERSHIP_LOST if self.lost.is_set() else 0

    def _stop_on_signals(self) -> None:
        """Until kopf installs its own handlers, SIGTERM/SIGINT end the standby wait."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop.set())

    def _wait_for_leadership(self) -> bool:
        with standby_liveness(self.config.liveness_endpoint, lambda: not self.stop.is_set()):
            return self.elector.acquire(self.stop)

    def _start_renewing(self) -> threading.Thread | None:
        if not self.config.lease.enabled:
            return None
        thread = threading.Thread(
            target=self.elector.keep_renewing,
            args=(self.stop, self._leadership_lost),
            name="lease-renewer",
            daemon=True,
        )
        thread.start()
        return thread

    def _leadership_lost(self) -> None:
        self.lost.set()
        self._request_stop()
        deadline = threading.Timer(LOST_LEASE_EXIT_SECONDS, _exit_now)
        deadline.daemon = True  # a clean exit before the deadline must not wait for it
        deadline.start()

    def _request_stop(self) -> None:
        """Stop from any thread: cancel kopf's task inside its loop.

        Not a ``stop_flag``: kopf waits for a threading flag in an executor thread
        (which then blocks the loop's shutdown when a signal stops kopf first) and
        for an asyncio one in a task it leaves behind (five more seconds to stop).
        """
        self.stop.set()
        loop, task = self._kopf_loop, self._kopf_task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)

    def _run_kopf(self) -> None:
        asyncio.run(self._operate())

    async def _operate(self) -> None:
        self._kopf_loop = asyncio.get_running_loop()
        self._kopf_task = asyncio.create_task(self._kopf())
        if self.stop.is_set():
            self._kopf_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._kopf_task

    async def _kopf(self) -> None:
        registry = kopf.OperatorRegistry()
        handlers.register(
            registry,
            self.config.resync_seconds,
            lambda: kube.connection_info(self.api_configuration),
        )
        reconciler = Reconciler(
            cluster=self.cluster,
            image_defaults=ImageDefaults(self.config.image_repository, self.config.image_tag),
            clock=_utc_now,
            handover=dataclasses.replace(self.cluster, field_manager=HANDOVER_MANAGER),
            # A missed watch event can hide a leftover for one resync period at most.
            known_absent=KnownAbsent(ttl=self.config.resync_seconds),
        )
        memo = handlers.OperatorContext(
            self.cluster,
            reconciler,
            self.reconciles,
            self.metrics,
            self.degraded,
            self.backup_tracker,
        )
        namespaces: dict[str, Any] = (
            {"namespaces": list(self.config.namespaces)}
            if self.config.namespaces
            else {"clusterwide": True}
        )
        await kopf.operator(
            registry=registry,
            settings=kopf_settings(self.config),
            standalone=True,
            liveness_endpoint=self.config.liveness_endpoint,
            memo=memo,
            **namespaces,
        )

    def _shut_down(self, renewer: threading.Thread | None) -> None:
        self._request_stop()
        drained = self.reconciles.close(DRAIN_SECONDS)
        if renewer is not None:
            renewer.join(timeout=self.config.lease.retry_period_seconds + 5)
        if self.lost.is_set():
            return
        if not drained:
            logger.warning("reconciles still running; keeping the lease until it expires")
            return
        self.elector.release()


def _exit_now() -> None:
    logger.error("kopf did not stop after the lease was lost; exiting")
    logging.shutdown()
    os._exit(EXIT_LEADERSHIP_LOST)


if __name__ == "__main__":
    sys.exit(main())
