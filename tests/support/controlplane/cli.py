"""The command line ``hack/cluster.sh`` calls (``python -m tests.support.controlplane``)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from tests.support.controlplane.build import ensure_tools, find_tools
from tests.support.controlplane.config import (
    CLUSTER_STATE_NAME,
    CONTROL_PLANE_TOOLS,
    REPO_ROOT,
    VOLUMES_READY_FILE,
    ControlPlaneError,
    run_root,
    stderr_log,
)
from tests.support.controlplane.plane import ControlPlane
from tests.support.controlplane.processes import (
    cleanup_stale_runs,
    cleanup_state_dir,
    owner_alive,
    read_pid_record,
    same_process,
)


def cluster_state_dir(args: argparse.Namespace | None = None) -> Path:
    """hack/cluster.sh's state directory (``--state-dir`` moves it, for the tests)."""
    explicit = getattr(args, "state_dir", None)
    return Path(explicit) if explicit else run_root() / CLUSTER_STATE_NAME


def _supervisor_log(state_dir: Path) -> Path:
    return state_dir.with_name(f"{state_dir.name}.log")


def _export_line(state_dir: Path) -> str:
    return f"export KUBECONFIG={state_dir / 'kubeconfig'}"


def _cluster_ready(state_dir: Path) -> bool:
    return (
        owner_alive(state_dir)
        and (state_dir / "ready").is_file()
        and (state_dir / VOLUMES_READY_FILE).is_file()
    )


@contextlib.contextmanager
def provide_volumes(plane: ControlPlane) -> Iterator[None]:
    """The integration tests' StorageClasses and volume provisioner, on ``plane``.

    What makes `up`'s cluster the one the tests use: claims bind (tests/support/volumes.py).
    """
    from kubernetes import config

    from tests.support.volumes import VolumeProvisioner

    api = config.new_client_from_config(config_file=str(plane.kubeconfig))
    try:
        with VolumeProvisioner(api, delete_volumes_after=False):
            (plane.state_dir / VOLUMES_READY_FILE).write_text("")
            yield
    finally:
        api.close()


def cmd_build(_: argparse.Namespace) -> int:
    tools = ensure_tools(CONTROL_PLANE_TOOLS)
    if not tools.built:
        stderr_log(tools.describe())
    for name, path in sorted(tools.paths.items()):
        print(f"{name}\t{path}")
    return 0


def cmd_tools(_: argparse.Namespace) -> int:
    found, missing = find_tools(CONTROL_PLANE_TOOLS)
    for name, path in sorted(found.items()):
        print(f"{name}\t{path}")
    for name in missing:
        print(f"{name}\t(missing: `hack/cluster.sh build` builds it)")
    return 0 if not missing else 1


def cmd_serve(args: argparse.Namespace) -> int:
    """Run a control plane in the foreground until SIGTERM/SIGINT (what `up` detaches)."""
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    plane = ControlPlane(ensure_tools(CONTROL_PLANE_TOOLS), Path(args.state_dir), nodes=args.nodes)
    try:
        plane.start()
        with provide_volumes(plane):
            while True:
                dead = plane.dead_children()
                if dead:
                    stderr_log(f"component(s) exited: {', '.join(dead)}; stopping")
                    return 1
                time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        plane.stop()


def cmd_up(args: argparse.Namespace) -> int:
    state = cluster_state_dir(args)
    if _cluster_ready(state):
        stderr_log(f"already running ({state})")
        print(_export_line(state))
        return 0
    started = time.monotonic()
    if not owner_alive(state):
        cleanup_stale_runs()
        ensure_tools(CONTROL_PLANE_TOOLS)
        state.parent.mkdir(parents=True, exist_ok=True)
        with _supervisor_log(state).open("w") as log_file:
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.support.controlplane",
                    "serve",
                    "--state-dir",
                    str(state),
                    "--nodes",
                    str(args.nodes),
                ],
                cwd=REPO_ROOT,
                env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    deadline = time.monotonic() + 300
    while not _cluster_ready(state):
        if time.monotonic() > deadline or (
            time.monotonic() - started > 5 and not owner_alive(state)
        ):
            log_path = _supervisor_log(state)
            tail = log_path.read_text(errors="replace")[-4000:] if log_path.exists() else ""
            stderr_log(f"the control plane did not come up; supervisor log:\n{tail}")
            cmd_down(args)
            return 1
        time.sleep(0.2)
    stderr_log(f"up in {time.monotonic() - started:.1f} s")
    print(_export_line(state))
    return 0


def cmd_env(_: argparse.Namespace) -> int:
    state = cluster_state_dir()
    if not _cluster_ready(state):
        stderr_log("no control plane is running; start it with `hack/cluster.sh up`")
        return 1
    print(_export_line(state))
    return 0


def cmd_status(_: argparse.Namespace) -> int:
    state = cluster_state_dir()
    if not _cluster_ready(state):
        print("down")
        return 1
    print(f"up {state / 'kubeconfig'}")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    state = cluster_state_dir(args)
    record = read_pid_record(state / "owner.pid")
    if record and same_process(*record):
        os.kill(record[0], signal.SIGTERM)
        deadline = time.monotonic() + 30
        while same_process(*record) and time.monotonic() < deadline:
            time.sleep(0.1)
        if same_process(*record):
            os.kill(record[0], signal.SIGKILL)
    if state.exists():
        cleanup_state_dir(state)
    stderr_log("down")
    return 0


def exec_tool(tool: str, args: Sequence[str]) -> int:
    """Run the pinned kubectl/helm against hack/cluster.sh's control plane (exec)."""
    found, _missing = find_tools([tool])
    path = found.get(tool) or ensure_tools([tool])[tool]
    env = dict(os.environ)
    kubeconfig = cluster_state_dir() / "kubeconfig"
    if _cluster_ready(cluster_state_dir()):
        env["KUBECONFIG"] = str(kubeconfig)
    else:
        stderr_log("warning: the control plane is not up (`hack/cluster.sh up`)")
    sys.stdout.flush()
    os.execve(path, [tool, *args], env)
    return 127  # pragma: no cover


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("kubectl", "helm"):
        try:
            return exec_tool(argv[0], argv[1:])
        except ControlPlaneError as exc:
            stderr_log(str(exc))
            return 1
    parser = argparse.ArgumentParser(
        prog="hack/cluster.sh", description="A local Kubernetes control plane (no Docker)."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="obtain/build the pinned binaries and print their paths")
    sub.add_parser("tools", help="print where each binary is (no build)")
    up = sub.add_parser("up", help="start the control plane (idempotent); prints export KUBECONFIG")
    up.add_argument("--nodes", type=int, default=2, help="simulated (kwok) nodes")
    up.add_argument("--state-dir", help=argparse.SUPPRESS)  # elsewhere than run/cluster (tests)
    sub.add_parser("env", help="print the export KUBECONFIG=... line again")
    sub.add_parser("status", help="print whether it runs")
    down = sub.add_parser("down", help="stop everything `up` started and remove its data")
    down.add_argument("--state-dir", help=argparse.SUPPRESS)
    sub.add_parser("kubectl", help="the pinned kubectl, pointed at the control plane")
    sub.add_parser("helm", help="the pinned helm, pointed at the control plane")
    serve = sub.add_parser("serve", help=argparse.SUPPRESS)
    serve.add_argument("--state-dir", required=True)
    serve.add_argument("--nodes", type=int, default=2)
    args = parser.parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "build": cmd_build,
        "tools": cmd_tools,
        "up": cmd_up,
        "env": cmd_env,
        "status": cmd_status,
        "down": cmd_down,
        "serve": cmd_serve,
    }
    try:
        return commands[args.command](args)
    except ControlPlaneError as exc:
        stderr_log(f"error: {exc}")
        return 1
