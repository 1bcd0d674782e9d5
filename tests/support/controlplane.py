"""A real Kubernetes control plane for the tests, run as plain processes (no Docker).

What it does:

* obtains, for the pinned versions below, ``etcd``, ``kube-apiserver``,
  ``kube-controller-manager``, ``kube-scheduler``, ``kwok``, ``kubectl`` and ``helm``:
  first from ``$SORA_KUBE_BIN_DIR`` (any of them found there wins), then from the cache
  ``~/.cache/sora-kube/<kubernetes version>/bin`` (``$SORA_KUBE_CACHE_DIR`` moves the
  cache), else builds the missing ones from the Go module proxy with the machine's Go;
* starts etcd, the API server (TLS, RBAC+Node authorization, a token-file admin in
  ``system:masters``, a ServiceAccount signing key), the controller manager, the
  scheduler and kwok (simulated nodes) on free loopback ports, writes a kubeconfig
  and waits until the cluster is ready (``/readyz``, the nodes ``Ready``, the
  ``default`` ServiceAccount created by the controller manager);
* stops them again and removes the data. Every child gets ``PR_SET_PDEATHSIG``
  (SIGKILL) so it dies with its parent; a crashed run leaves pid files that the next
  start uses to clean up.

Building Kubernetes: ``k8s.io/kubernetes`` requires its staging modules at ``v0.0.0``
and replaces them with local paths, so ``go install ...@version`` refuses it. A
throwaway "builder" module requires it and replaces every staging module with the
published ``v0.X.Y`` (the replace list is generated from upstream's ``go.mod``). etcd's
server module gets the same treatment; kwok, helm and kind go through the same path.

``up`` also runs, beside the control plane, the volume provisioner the integration
tests use (tests/support/volumes.py), so claims bind on it as they do in the tests.

Command line (what ``hack/cluster.sh`` calls)::

    python -m tests.support.controlplane build|up|env|status|down|tools
    python -m tests.support.controlplane kubectl ARGS...
    python -m tests.support.controlplane helm ARGS...
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import datetime as dt
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

# --------------------------------------------------------------------------------------
# Pinned versions
# --------------------------------------------------------------------------------------

KUBERNETES_VERSION = "v1.36.3"
ETCD_VERSION = "v3.6.16"
KWOK_VERSION = "v0.8.0"
HELM_VERSION = "v3.22.0"
KIND_VERSION = "v0.33.0"
# What the e2e tier's locally built kind node image needs besides the above.
COREDNS_VERSION = "v1.14.2"
CRI_TOOLS_VERSION = "v1.36.0"
METRICS_SERVER_VERSION = "v0.8.0"
LOCAL_PATH_PROVISIONER_VERSION = "v0.0.30"

#: What the control plane needs; ``kind`` is only built for the e2e tier.
CONTROL_PLANE_TOOLS: tuple[str, ...] = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "kubectl",
    "helm",
)
KWOK_STAGES_FILE = "kwok-stages.yaml"
BIN_DIR_ENV = "SORA_KUBE_BIN_DIR"
CACHE_DIR_ENV = "SORA_KUBE_CACHE_DIR"
KEEP_STATE_ENV = "SORA_KUBE_KEEP_STATE"
REPO_ROOT = Path(__file__).resolve().parents[2]

# Room for the operator benchmark's 300 SoraDeployments (two to four Services each):
# a /24 ran out of ClusterIPs at 127 ("failed to allocate a serviceIP: range is full").
SERVICE_CIDR = "10.0.0.0/16"
SERVICE_IP = "10.0.0.1"
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
#: How long a node may go without a heartbeat before the node controller calls it
#: NotReady (kube-controller-manager's default is 50 s).
NODE_MONITOR_GRACE = "15m"
CLUSTER_STATE_NAME = "cluster"  # hack/cluster.sh's state directory under run/
#: Written by `serve` once the volume provisioner runs: `up` returns only after it.
VOLUMES_READY_FILE = "volumes-ready"

Log = Callable[[str], None]


def _stderr_log(message: str) -> None:
    print(f"[sora-kube] {message}", file=sys.stderr, flush=True)


class ControlPlaneError(RuntimeError):
    """Anything that keeps the control plane from being built or started."""


# --------------------------------------------------------------------------------------
# Pure helpers (unit tested): go.mod parsing, builder modules, version stamps, kubeconfig
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replace:
    old: str
    old_version: str | None
    new: str
    new_version: str | None

    @property
    def is_local(self) -> bool:
        """True for a replacement by a directory (``./x``, ``../x``, ``/x``)."""
        return self.new_version is None and (
            self.new.startswith(("./", "../", "/")) or self.new in {".", ".."}
        )


@dataclass
class GoMod:
    module: str = ""
    go: str = ""
    toolchain: str = ""
    godebug: list[str] = field(default_factory=list)
    require: dict[str, str] = field(default_factory=dict)
    replace: list[Replace] = field(default_factory=list)
    tool: list[str] = field(default_factory=list)


_BLOCK_VERBS = {"require", "replace", "exclude", "retract", "godebug", "tool", "ignore"}


def _strip_comment(line: str) -> str:
    index = line.find("//")
    return (line[:index] if index >= 0 else line).strip()


def _parse_replace(spec: str) -> Replace:
    left, sep, right = spec.partition("=>")
    if not sep:
        raise ValueError(f"replace without '=>': {spec!r}")
    old = left.split()
    new = right.split()
    if len(old) not in (1, 2) or len(new) not in (1, 2):
        raise ValueError(f"malformed replace: {spec!r}")
    return Replace(
        old=old[0],
        old_version=old[1] if len(old) == 2 else None,
        new=new[0],
        new_version=new[1] if len(new) == 2 else None,
    )


def parse_go_mod(text: str) -> GoMod:
    """Parse the parts of a ``go.mod`` the builder modules need."""
    mod = GoMod()
    block: str | None = None

    def add(verb: str, rest: str) -> None:
        if verb == "require":
            parts = rest.split()
            if len(parts) >= 2:
                mod.require[parts[0]] = parts[1]
        elif verb == "replace":
            mod.replace.append(_parse_replace(rest))
        elif verb == "godebug":
            mod.godebug.append(rest.strip())
        elif verb == "tool":
            mod.tool.append(rest.strip())

    for raw in text.splitlines():
        line = _strip_comment(raw)
        if not line:
            continue
        if block is not None:
            if line == ")":
                block = None
            else:
                add(block, line)
            continue
        verb, _, rest = line.partition(" ")
        rest = rest.strip()
        if verb in _BLOCK_VERBS and rest == "(":
            block = verb
        elif verb == "module":
            mod.module = rest.strip('"')
        elif verb == "go":
            mod.go = rest
        elif verb == "toolchain":
            mod.toolchain = rest
        elif verb in _BLOCK_VERBS:
            add(verb, rest)
    return mod


def staging_version(kubernetes_version: str) -> str:
    """``v1.36.3`` → ``v0.36.3``: the tag of the published staging modules."""
    match = re.fullmatch(r"v1\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?", kubernetes_version)
    if not match:
        raise ValueError(f"not a Kubernetes v1.x.y version: {kubernetes_version!r}")
    return f"v0.{match.group(1)}.{match.group(2)}{match.group(3) or ''}"


def builder_replaces(upstream: GoMod, version: str) -> dict[str, str]:
    """Map every module upstream replaces with a local directory, and requires, to ``version``.

    Local replacements of modules upstream does not require (etcd's
    ``FORBIDDEN_DEPENDENCY`` guards) are left out.
    """
    return {
        r.old: version
        for r in upstream.replace
        if r.is_local and r.old in upstream.require and r.old_version is None
    }


def render_builder_go_mod(
    *,
    module: str,
    go: str,
    godebug: Sequence[str],
    require: Mapping[str, str],
    replace: Mapping[str, str],
    tools: Sequence[str],
) -> str:
    lines = [
        "// Generated by tests/support/controlplane.py: a throwaway module that builds",
        "// pinned upstream binaries. Safe to delete.",
        f"module {module}",
        "",
        f"go {go}",
    ]
    if godebug:
        lines += ["", "godebug (", *(f"\t{entry}" for entry in godebug), ")"]
    lines += ["", "require (", *(f"\t{m} {v}" for m, v in sorted(require.items())), ")"]
    if replace:
        lines += ["", "replace (", *(f"\t{m} => {m} {v}" for m, v in sorted(replace.items())), ")"]
    if tools:
        lines += ["", "tool (", *(f"\t{t}" for t in tools), ")"]
    return "\n".join(lines) + "\n"


def aligned_staging_requires(
    upstream: GoMod, kubernetes_version: str = KUBERNETES_VERSION
) -> dict[str, str]:
    """Requires that lift upstream's k8s.io modules of our minor (v0.36.x) to our patch."""
    target = staging_version(kubernetes_version)
    minor = target.rsplit(".", 1)[0] + "."
    return {
        module: target
        for module, version in upstream.require.items()
        if module.startswith("k8s.io/") and version.startswith(minor) and version != target
    }


def go_binary_name(package: str) -> str:
    """The file name ``go build -o DIR/`` gives a main package (``.../server/v3`` → ``server``)."""
    parts = package.split("/")
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        return parts[-2]
    return parts[-1]


def _x(variables: Mapping[str, str], *packages: str) -> list[str]:
    return [f"-X {pkg}.{key}={value}" for pkg in packages for key, value in variables.items()]


def kube_version_ldflags(version: str, build_date: str) -> list[str]:
    """The ``-X`` stamps upstream's hack/lib/version.sh sets, so ``/version`` is right."""
    match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+.*", version)
    if not match:
        raise ValueError(f"not a semantic version: {version!r}")
    variables = {
        "gitVersion": version,
        "gitMajor": match.group(1),
        "gitMinor": match.group(2),
        "gitTreeState": "clean",
        "buildDate": build_date,
    }
    return _x(variables, "k8s.io/client-go/pkg/version", "k8s.io/component-base/version")


def helm_version_ldflags(version: str, client_go_version: str) -> list[str]:
    """Helm's Makefile stamps: its own version and the Kubernetes version it was built for."""
    match = re.fullmatch(r"v0\.(\d+)\.\d+.*", client_go_version)
    if not match:
        raise ValueError(f"unexpected k8s.io/client-go version: {client_go_version!r}")
    major = version.split(".", maxsplit=1)[0]  # v3
    base = f"helm.sh/helm/{major}"
    k8s = {"k8sVersionMajor": "1", "k8sVersionMinor": match.group(1)}
    return [
        *_x({"version": version, "gitTreeState": "clean"}, f"{base}/internal/version"),
        *_x(k8s, f"{base}/pkg/lint/rules", f"{base}/pkg/chartutil"),
    ]


def render_kubeconfig(
    server: str, ca_pem: bytes, token: str, *, name: str = "sora-kube", user: str = "admin"
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": name,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode("ascii"),
                },
            }
        ],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
        "current-context": name,
    }


def render_token_file(entries: Sequence[tuple[str, str, Sequence[str]]]) -> str:
    """kube-apiserver ``--token-auth-file`` lines: ``token,user,uid,"group1,group2"``."""
    lines = []
    for token, user, groups in entries:
        if any(c in token + user for c in ',"\n'):
            raise ValueError("tokens and user names must not contain commas, quotes or newlines")
        lines.append(f'{token},{user},{user},"{",".join(groups)}"')
    return "\n".join(lines) + "\n"


def resolve_kustomize_stages(directory: Path) -> str:
    """Concatenate the YAML files a (plain, patch-free) kustomization lists, recursively.

    kwok ships its stage sets as kustomizations of Stage manifests; kwok's ``--config``
    takes a multi-document YAML file.
    """
    seen: set[Path] = set()
    documents: list[str] = []

    def visit(path: Path) -> None:
        path = path.resolve()
        if path in seen:
            return
        seen.add(path)
        if path.is_dir():
            kustomization = yaml.safe_load((path / "kustomization.yaml").read_text())
            unsupported = set(kustomization) - {"apiVersion", "kind", "resources"}
            if unsupported:
                raise ControlPlaneError(f"{path}: unsupported kustomization keys {unsupported}")
            for resource in kustomization.get("resources", []):
                visit(path / resource)
        else:
            documents.append(path.read_text().strip().removeprefix("---").strip())

    visit(directory)
    return "".join(f"---\n{doc}\n" for doc in documents)


def kwok_node_manifest(name: str) -> dict[str, Any]:
    """A Node that kwok manages (``kwok.x-k8s.io/node: fake``); untainted, so any pod fits."""
    resources = {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "1Ti"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", KWOK_NODE_ANNOTATION: "fake"},
            "labels": {
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/role": "agent",
                "node-role.kubernetes.io/agent": "",
                "type": "kwok",
            },
        },
        "spec": {},
        "status": {"allocatable": resources, "capacity": resources},
    }


def proc_state(stat_text: str) -> str:
    """Field 3 (R, S, D, Z, ...) of a ``/proc/<pid>/stat`` line."""
    return stat_text[stat_text.rindex(")") + 2 :].split(maxsplit=1)[0]


def proc_start_time(stat_text: str) -> int:
    """Field 22 (start time in clock ticks) of a ``/proc/<pid>/stat`` line."""
    # The command name (field 2) is parenthesised and may contain spaces or ')'.
    return int(stat_text[stat_text.rindex(")") + 2 :].split()[19])


# --------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------


def cache_root() -> Path:
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "sora-kube"


def version_dir() -> Path:
    return cache_root() / KUBERNETES_VERSION


def run_root() -> Path:
    """Where running control planes keep their state (one directory each)."""
    return cache_root() / "run"


# --------------------------------------------------------------------------------------
# Child processes: die with the parent, recorded by pid + start time
# --------------------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)
_prctl = _libc.prctl


def _child_setup(parent_pid: int, niceness: int = 0) -> Callable[[], None]:
    def setup() -> None:
        # SIGKILL this process when the thread that forked it dies (PR_SET_PDEATHSIG).
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)
        if niceness:
            os.nice(niceness)

    return setup


def _start_time(pid: int) -> int | None:
    """The start time of a live process; None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if proc_state(stat) in ("Z", "X"):  # dead, waiting to be reaped
            return None
        return proc_start_time(stat)
    except (OSError, ValueError, IndexError):
        return None


def _same_process(pid: int, start_time: int) -> bool:
    return _start_time(pid) == start_time


def _read_pid_record(path: Path) -> tuple[int, int] | None:
    try:
        pid, start = path.read_text().split()[:2]
        return int(pid), int(start)
    except (OSError, ValueError):
        return None


def _write_pid_record(path: Path, pid: int) -> None:
    start = _start_time(pid)
    path.write_text(f"{pid} {start if start is not None else -1}\n")


def _kill_record(path: Path, sig: int = signal.SIGKILL) -> bool:
    record = _read_pid_record(path)
    if record and _same_process(*record):
        with contextlib.suppress(ProcessLookupError):
            os.kill(record[0], sig)
        return True
    return False


def _owner_alive(state_dir: Path) -> bool:
    record = _read_pid_record(state_dir / "owner.pid")
    return bool(record and _same_process(*record))


def cleanup_state_dir(state_dir: Path) -> None:
    """Kill whatever a state directory's pid files still name, then remove it."""
    pids = state_dir / "pids"
    if pids.is_dir():
        for record in pids.glob("*.pid"):
            _kill_record(record)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
            (r := _read_pid_record(p)) and _same_process(*r) for p in pids.glob("*.pid")
        ):
            time.sleep(0.1)
    shutil.rmtree(state_dir, ignore_errors=True)


def cleanup_stale_runs(log: Log = _stderr_log) -> None:
    """Remove the state of control planes whose owner process is gone (crashed runs)."""
    root = run_root()
    if not root.is_dir():
        return
    for state_dir in root.iterdir():
        if state_dir.is_dir() and not _owner_alive(state_dir):
            log(f"cleaning up stale control plane state {state_dir}")
            cleanup_state_dir(state_dir)


def _run(
    args: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    log_file: IO[str] | None = None,
    niceness: int = 0,
) -> str:
    """Run a build step bound to our lifetime; return stdout, raise with the output on error."""
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        preexec_fn=_child_setup(os.getpid(), niceness),
        check=False,
    )
    if log_file is not None:
        log_file.write(f"$ {' '.join(str(a) for a in args)}\n{proc.stderr}")
        log_file.flush()
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-40:])
        raise ControlPlaneError(
            f"command failed ({proc.returncode}): {' '.join(str(a) for a in args)}\n{tail}"
        )
    return proc.stdout


# --------------------------------------------------------------------------------------
# Obtaining the binaries
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoBuild:
    """One builder module: a required upstream module and the binaries built from it."""

    name: str
    module: str
    version: str
    binaries: Mapping[str, str]  # binary name -> main package
    replace_version: str | None = None  # version for upstream's local replaces
    tags: tuple[str, ...] = ()
    # Raise k8s.io staging modules of the pinned minor to the pinned patch, so the
    # packages compiled for the Kubernetes build are reused from GOCACHE.
    align_staging: bool = False


GO_BUILDS: tuple[GoBuild, ...] = (
    GoBuild(
        name="kubernetes",
        module="k8s.io/kubernetes",
        version=KUBERNETES_VERSION,
        binaries={
            "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
            "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
            "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
            "kubectl": "k8s.io/kubernetes/cmd/kubectl",
            "kubelet": "k8s.io/kubernetes/cmd/kubelet",
            "kubeadm": "k8s.io/kubernetes/cmd/kubeadm",
            "kube-proxy": "k8s.io/kubernetes/cmd/kube-proxy",
        },
        replace_version=staging_version(KUBERNETES_VERSION),
        # what upstream's hack/lib/golang.sh uses for non-debug builds
        tags=("selinux", "notest", "grpcnotrace"),
    ),
    GoBuild(
        name="etcd",
        module="go.etcd.io/etcd/server/v3",
        version=ETCD_VERSION,
        binaries={"etcd": "go.etcd.io/etcd/server/v3"},
        replace_version=ETCD_VERSION,
    ),
    GoBuild(
        name="kwok",
        module="sigs.k8s.io/kwok",
        version=KWOK_VERSION,
        binaries={"kwok": "sigs.k8s.io/kwok/cmd/kwok"},
        align_staging=True,
    ),
    GoBuild(
        name="helm",
        module=f"helm.sh/helm/{HELM_VERSION.split('.', maxsplit=1)[0]}",
        version=HELM_VERSION,
        binaries={"helm": f"helm.sh/helm/{HELM_VERSION.split('.', maxsplit=1)[0]}/cmd/helm"},
    ),
    GoBuild(
        name="kind",
        module="sigs.k8s.io/kind",
        version=KIND_VERSION,
        binaries={"kind": "sigs.k8s.io/kind"},
    ),
    GoBuild(
        name="coredns",
        module="github.com/coredns/coredns",
        version=COREDNS_VERSION,
        binaries={"coredns": "github.com/coredns/coredns"},
    ),
    GoBuild(
        name="cri-tools",
        module="sigs.k8s.io/cri-tools",
        version=CRI_TOOLS_VERSION,
        binaries={"crictl": "sigs.k8s.io/cri-tools/cmd/crictl"},
    ),
    GoBuild(
        name="metrics-server",
        module="sigs.k8s.io/metrics-server",
        version=METRICS_SERVER_VERSION,
        binaries={"metrics-server": "sigs.k8s.io/metrics-server/cmd/metrics-server"},
    ),
    GoBuild(
        name="local-path-provisioner",
        module="github.com/rancher/local-path-provisioner",
        version=LOCAL_PATH_PROVISIONER_VERSION,
        binaries={"local-path-provisioner": "github.com/rancher/local-path-provisioner"},
    ),
)
TOOL_BUILDS: dict[str, GoBuild] = {tool: b for b in GO_BUILDS for tool in b.binaries}


def _ldflags(build: GoBuild, upstream: GoMod, build_date: str) -> list[str]:
    if build.name == "kubernetes":
        return kube_version_ldflags(build.version, build_date)
    if build.name == "helm":
        return helm_version_ldflags(build.version, upstream.require["k8s.io/client-go"])
    if build.name == "kwok":
        return _x({"Version": build.version.removeprefix("v")}, "sigs.k8s.io/kwok/pkg/consts")
    return []


@dataclass
class Toolset:
    paths: dict[str, Path]
    kwok_stages: Path | None
    built: list[str] = field(default_factory=list)
    build_seconds: float = 0.0

    def __getitem__(self, tool: str) -> Path:
        return self.paths[tool]

    def describe(self) -> str:
        if self.built:
            return f"built {', '.join(self.built)} in {self.build_seconds:.0f} s"
        return "all binaries found (no build)"


def find_go() -> str:
    for candidate in (os.environ.get("SORA_GO"), shutil.which("go"), "/usr/local/go/bin/go"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ControlPlaneError(
        "Go is needed to build the control-plane binaries and none was found "
        "(install Go >= 1.26, or set SORA_GO, or provide the binaries in $SORA_KUBE_BIN_DIR)"
    )


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(CGO_ENABLED="0", GOWORK="off", GO111MODULE="on", GOFLAGS="-modcacherw")
    env.pop("GOOS", None)
    env.pop("GOARCH", None)
    return env


def _manifest_path() -> Path:
    return version_dir() / "manifest.json"


def _read_manifest() -> dict[str, str]:
    try:
        data = json.loads(_manifest_path().read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_tools(tools: Sequence[str] = CONTROL_PLANE_TOOLS) -> tuple[dict[str, Path], list[str]]:
    """Locate the tools without building: returns (found, missing)."""
    found: dict[str, Path] = {}
    env_dir = os.environ.get(BIN_DIR_ENV)
    manifest = _read_manifest()
    for tool in tools:
        if env_dir and _executable(Path(env_dir) / tool):
            found[tool] = Path(env_dir) / tool
            continue
        cached = version_dir() / "bin" / tool
        if _executable(cached) and manifest.get(tool) == TOOL_BUILDS[tool].version:
            found[tool] = cached
    return found, [t for t in tools if t not in found]


def find_kwok_stages() -> Path | None:
    env_dir = os.environ.get(BIN_DIR_ENV)
    for candidate in ((Path(env_dir) / KWOK_STAGES_FILE) if env_dir else None,):
        if candidate and candidate.is_file():
            return candidate
    cached = version_dir() / KWOK_STAGES_FILE
    if cached.is_file() and _read_manifest().get(KWOK_STAGES_FILE) == KWOK_VERSION:
        return cached
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _download(go: str, module: str, version: str, env: Mapping[str, str]) -> dict[str, Any]:
    out = _run([go, "mod", "download", "-json", f"{module}@{version}"], env=env, cwd=Path("/"))
    info: dict[str, Any] = json.loads(out)
    if info.get("Error"):
        raise ControlPlaneError(f"go mod download {module}@{version}: {info['Error']}")
    return info


def _go_build(build: GoBuild, tools: Sequence[str], out_dir: Path, log: Log) -> None:
    go = find_go()
    env = _go_env()
    work = cache_root() / "build" / f"{build.name}-{build.version}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.monotonic()
    with (work / "build.log").open("w") as log_file:
        info = _download(go, build.module, build.version, env)
        upstream = parse_go_mod(Path(info["GoMod"]).read_text())
        replaces = builder_replaces(upstream, build.replace_version or build.version)
        packages = [build.binaries[t] for t in tools]
        (work / "go.mod").write_text(
            render_builder_go_mod(
                module=f"sora.invalid/kube-builder/{build.name}",
                go=upstream.go or "1.26",
                godebug=upstream.godebug,
                require={
                    build.module: build.version,
                    **(aligned_staging_requires(upstream) if build.align_staging else {}),
                },
                replace=replaces,
                tools=packages,
            )
        )
        log(f"  {build.name} {build.version}: resolving modules ({len(replaces)} replaces)")
        _run([go, "mod", "tidy"], cwd=work, env=env, log_file=log_file, niceness=10)
        build_date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ldflags = " ".join(["-s", "-w", *_ldflags(build, upstream, build_date)])
        args: list[str | Path] = [go, "build", "-trimpath", f"-ldflags={ldflags}"]
        if build.tags:
            args.append(f"-tags={','.join(build.tags)}")
        staging = work / "bin"
        staging.mkdir()
        log(f"  {build.name} {build.version}: compiling {', '.join(tools)}")
        _run(
            [*args, "-o", f"{staging}/", *packages],
            cwd=work,
            env=env,
            log_file=log_file,
            niceness=10,
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        for tool in tools:
            os.replace(staging / go_binary_name(build.binaries[tool]), out_dir / tool)
        if build.name == "kwok":
            stages = resolve_kustomize_stages(Path(info["Dir"]) / "kustomize" / "stage" / "fast")
            (out_dir.parent / KWOK_STAGES_FILE).write_text(stages)
    log(f"  {build.name} {build.version}: done in {time.monotonic() - started:.0f} s")
    shutil.rmtree(work, ignore_errors=True)


def _update_manifest(entries: Mapping[str, str]) -> None:
    manifest = _read_manifest()
    manifest.update(entries)
    tmp = _manifest_path().with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, _manifest_path())


def ensure_tools(tools: Sequence[str] = CONTROL_PLANE_TOOLS, log: Log = _stderr_log) -> Toolset:
    """Find the tools (``$SORA_KUBE_BIN_DIR``, then the cache) and build what is missing."""
    need_stages = "kwok" in tools
    found, missing = find_tools(tools)
    stages = find_kwok_stages() if need_stages else None
    if not missing and (stages or not need_stages):
        return Toolset(paths=found, kwok_stages=stages)
    started = time.monotonic()
    built: list[str] = []
    with _locked(cache_root() / f".{KUBERNETES_VERSION}.lock"):
        found, missing = find_tools(tools)  # another process may have built them meanwhile
        bin_dir = version_dir() / "bin"
        if missing:
            log(
                f"building {', '.join(missing)} with {find_go()} into {bin_dir} "
                "(first time only; later runs reuse the cache)"
            )
        for build in GO_BUILDS:
            wanted = [t for t in missing if TOOL_BUILDS[t] is build]
            if not wanted:
                continue
            _go_build(build, wanted, bin_dir, log)
            entries = dict.fromkeys(wanted, build.version)
            if build.name == "kwok":
                entries[KWOK_STAGES_FILE] = build.version
            _update_manifest(entries)
            built += wanted
        if need_stages and find_kwok_stages() is None:
            info = _download(find_go(), "sigs.k8s.io/kwok", KWOK_VERSION, _go_env())
            stages_text = resolve_kustomize_stages(
                Path(info["Dir"]) / "kustomize" / "stage" / "fast"
            )
            version_dir().mkdir(parents=True, exist_ok=True)
            (version_dir() / KWOK_STAGES_FILE).write_text(stages_text)
            _update_manifest({KWOK_STAGES_FILE: KWOK_VERSION})
        found, missing = find_tools(tools)
        if missing:
            raise ControlPlaneError(f"still missing after the build: {', '.join(missing)}")
    seconds = time.monotonic() - started
    if built:
        log(f"built {', '.join(built)} in {seconds:.0f} s")
    return Toolset(
        paths=found,
        kwok_stages=find_kwok_stages() if need_stages else None,
        built=built,
        build_seconds=seconds,
    )


# --------------------------------------------------------------------------------------
# The control plane
# --------------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def generate_pki(directory: Path) -> None:
    """CA, API server serving certificate, ServiceAccount signing key pair (ECDSA P-256)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sora-kube-ca")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [
        x509.DNSName(n)
        for n in (
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
        )
    ]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ("127.0.0.1", SERVICE_IP)]
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    sa_key = ec.generate_private_key(ec.SECP256R1())
    (directory / "ca.crt").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_private(directory / "ca.key", pem_key(ca_key))
    (directory / "apiserver.crt").write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    _write_private(directory / "apiserver.key", pem_key(server_key))
    _write_private(directory / "sa.key", pem_key(sa_key))
    (directory / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


class _PortClashError(ControlPlaneError):
    pass


@dataclass
class _Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path


class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok on loopback."""

    COMPONENT_ORDER = (
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
    )

    def __init__(
        self,
        tools: Toolset,
        state_dir: Path,
        *,
        nodes: int = 2,
        log: Log = _stderr_log,
        keep_state: bool | None = None,
    ) -> None:
        self.tools = tools
        self.state_dir = state_dir
        self.nodes = nodes
        self.log = log
        self.keep_state = (
            keep_state if keep_state is not None else os.environ.get(KEEP_STATE_ENV) == "1"
        )
        self.children: list[_Child] = []
        self.server = ""
        self.token = ""
        self.start_seconds = 0.0
        self._ssl: ssl.SSLContext | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.state_dir / "pki"

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = 180.0) -> None:
        started = time.monotonic()
        cleanup_stale_runs(self.log)
        if self.state_dir.exists():
            if _owner_alive(self.state_dir):
                raise ControlPlaneError(f"{self.state_dir} belongs to a running control plane")
            cleanup_state_dir(self.state_dir)
        for attempt in range(3):
            try:
                self._start_once(timeout)
                break
            except _PortClashError as exc:
                self.log(f"port clash ({exc}); retrying with new ports")
                self.stop()
                if attempt == 2:
                    raise
            except BaseException:
                self.stop()
                raise
        self.start_seconds = time.monotonic() - started
        (self.state_dir / "ready").write_text(f"{self.start_seconds:.1f}\n")
        self.log(f"control plane ready in {self.start_seconds:.1f} s at {self.server}")

    def _start_once(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        state = self.state_dir
        for sub in ("pids", "logs", "etcd", "certs"):
            (state / sub).mkdir(parents=True, exist_ok=True)
        _write_pid_record(state / "owner.pid", os.getpid())
        generate_pki(self.pki)
        self.token = secrets.token_hex(24)
        users = [(self.token, "admin", ["system:masters"])]
        _write_private(state / "tokens.csv", render_token_file(users).encode())
        etcd_port, peer_port, api_port, kcm_port, sched_port = free_ports(5)
        self.server = f"https://127.0.0.1:{api_port}"
        ca_pem = (self.pki / "ca.crt").read_bytes()
        kubeconfig = render_kubeconfig(self.server, ca_pem, self.token)
        _write_private(self.kubeconfig, yaml.safe_dump(kubeconfig, sort_keys=False).encode())
        self._ssl = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))

        etcd_url = f"http://127.0.0.1:{etcd_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        self._spawn(
            "etcd",
            [
                f"--name={'sora-kube'}",
                f"--data-dir={state / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=sora-kube={peer_url}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
        )
        self._wait("etcd", lambda: self._http_ok(f"{etcd_url}/health"), deadline)

        pki = self.pki
        self._spawn(
            "kube-apiserver",
            [
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                f"--secure-port={api_port}",
                "--advertise-address=127.0.0.1",
                "--endpoint-reconciler-type=none",
                f"--cert-dir={state / 'certs' / 'apiserver'}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--token-auth-file={state / 'tokens.csv'}",
                "--authorization-mode=RBAC,Node",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--service-account-issuer={SA_ISSUER}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--allow-privileged=true",
                "--profiling=false",
                "--v=1",
            ],
        )
        self._wait("kube-apiserver /readyz", lambda: self._api_ok("/readyz"), deadline)

        kc = str(self.kubeconfig)
        self._spawn(
            "kube-controller-manager",
            [
                f"--kubeconfig={kc}",
                f"--authentication-kubeconfig={kc}",
                f"--authorization-kubeconfig={kc}",
                "--bind-address=127.0.0.1",
                f"--secure-port={kcm_port}",
                f"--cert-dir={state / 'certs' / 'kcm'}",
                "--leader-elect=false",
                "--controllers=*",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                f"--cluster-signing-key-file={pki / 'ca.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                # kwok renews its simulated nodes' Leases late on a busy 2-core machine;
                # with the default 50 s grace the node controller would mark the nodes
                # NotReady, and their pods with them, for reasons no test is about.
                f"--node-monitor-grace-period={NODE_MONITOR_GRACE}",
                "--profiling=false",
                "--v=1",
            ],
        )
        self._spawn(
            "kube-scheduler",
            [
                f"--kubeconfig={kc}",
                f"--authentication-kubeconfig={kc}",
                f"--authorization-kubeconfig={kc}",
                "--bind-address=127.0.0.1",
                f"--secure-port={sched_port}",
                f"--cert-dir={state / 'certs' / 'scheduler'}",
                "--leader-elect=false",
                "--profiling=false",
                "--v=1",
            ],
        )
        if self.tools.kwok_stages is None:
            raise ControlPlaneError("kwok's stage configuration was not found")
        self._spawn(
            "kwok",
            [
                f"--kubeconfig={kc}",
                f"--config={self.tools.kwok_stages}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
                "--cidr=10.244.0.1/16",
                "--node-ip=127.0.0.1",
                "--v=INFO",
            ],
        )
        for index in range(self.nodes):
            self.create_node(f"kwok-node-{index}")
        self._wait(
            "kube-controller-manager /healthz",
            lambda: self._http_ok(f"https://127.0.0.1:{kcm_port}/healthz", insecure=True),
            deadline,
        )
        self._wait(
            "kube-scheduler /healthz",
            lambda: self._http_ok(f"https://127.0.0.1:{sched_port}/healthz", insecure=True),
            deadline,
        )
        self._wait("the nodes to be Ready (kwok)", self._nodes_ready, deadline)
        self._wait(
            "the default ServiceAccount (controller manager)",
            lambda: self._api_ok("/api/v1/namespaces/default/serviceaccounts/default"),
            deadline,
        )

    #: stop order: the clients first, then the API server, then its storage
    STOP_PHASES = (
        ("kwok", "kube-scheduler", "kube-controller-manager"),
        ("kube-apiserver",),
        ("etcd",),
    )

    def stop(self) -> None:
        """SIGTERM each phase, wait up to 10 s, SIGKILL what is left; remove the state."""
        for phase in self.STOP_PHASES:
            children = [c for c in self.children if c.name in phase]
            for child in children:
                if child.proc.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        child.proc.terminate()
            deadline = time.monotonic() + 10
            for child in children:
                try:
                    child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.proc.kill()
                    child.proc.wait()
        self.children.clear()
        if self.keep_state:
            self.log(f"kept the control plane state in {self.state_dir}")
            (self.state_dir / "owner.pid").unlink(missing_ok=True)
        else:
            cleanup_state_dir(self.state_dir)

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- children ----------------------------------------------------------------------

    def _spawn(self, name: str, args: Sequence[str]) -> None:
        log_path = self.state_dir / "logs" / f"{name}.log"
        with log_path.open("ab") as log_file:
            proc = subprocess.Popen(
                [str(self.tools[name]), *args],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=self.state_dir,
                preexec_fn=_child_setup(os.getpid()),  # noqa: PLW1509
                process_group=0,  # a terminal's Ctrl-C goes to us; we stop them in order
            )
        self.children.append(_Child(name, proc, log_path))
        _write_pid_record(self.state_dir / "pids" / f"{name}.pid", proc.pid)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.state_dir / "logs" / f"{name}.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def dead_children(self) -> list[str]:
        return [c.name for c in self.children if c.proc.poll() is not None]

    def _check_children(self) -> None:
        for child in self.children:
            code = child.proc.poll()
            if code is None:
                continue
            tail = self.log_tail(child.name)
            if "address already in use" in tail:
                raise _PortClashError(f"{child.name}: address already in use")
            raise ControlPlaneError(f"{child.name} exited with {code}; its log ends:\n{tail}")

    def _wait(self, what: str, check: Callable[[], bool], deadline: float) -> None:
        while True:
            self._check_children()
            if check():
                return
            if time.monotonic() > deadline:
                logs = "\n".join(
                    f"--- {c.name}\n{self.log_tail(c.name, 15)}" for c in self.children
                )
                raise ControlPlaneError(f"timed out waiting for {what}\n{logs}")
            time.sleep(0.2)

    # -- HTTP --------------------------------------------------------------------------

    def _http_ok(self, url: str, *, insecure: bool = False) -> bool:
        context = None
        if url.startswith("https:"):
            context = ssl._create_unverified_context() if insecure else self._ssl
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def api(
        self, method: str, path: str, body: Any | None = None, timeout: float = 5
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.server + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=self._ssl) as resp:
                raw = resp.read()
                status = int(resp.status)
        except urllib.error.HTTPError as err:
            raw = err.read()
            status = err.code
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def _api_ok(self, path: str) -> bool:
        try:
            return self.api("GET", path)[0] == 200
        except OSError:
            return False

    def create_node(self, name: str) -> None:
        """Register a Node that kwok simulates."""
        status, body = self.api("POST", "/api/v1/nodes", kwok_node_manifest(name))
        if status not in (201, 409):
            raise ControlPlaneError(f"creating node {name}: HTTP {status}: {body}")

    def _nodes_ready(self) -> bool:
        try:
            status, body = self.api("GET", "/api/v1/nodes")
        except OSError:
            return False
        if status != 200:
            return False
        ready = [
            item
            for item in body.get("items", [])
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in item.get("status", {}).get("conditions", [])
            )
        ]
        return len(ready) >= self.nodes


# --------------------------------------------------------------------------------------
# Command line (hack/cluster.sh)
# --------------------------------------------------------------------------------------


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
        _owner_alive(state_dir)
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
        _stderr_log(tools.describe())
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
                    _stderr_log(f"component(s) exited: {', '.join(dead)}; stopping")
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
        _stderr_log(f"already running ({state})")
        print(_export_line(state))
        return 0
    started = time.monotonic()
    if not _owner_alive(state):
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
            time.monotonic() - started > 5 and not _owner_alive(state)
        ):
            log_path = _supervisor_log(state)
            tail = log_path.read_text(errors="replace")[-4000:] if log_path.exists() else ""
            _stderr_log(f"the control plane did not come up; supervisor log:\n{tail}")
            cmd_down(args)
            return 1
        time.sleep(0.2)
    _stderr_log(f"up in {time.monotonic() - started:.1f} s")
    print(_export_line(state))
    return 0


def cmd_env(_: argparse.Namespace) -> int:
    state = cluster_state_dir()
    if not _cluster_ready(state):
        _stderr_log("no control plane is running; start it with `hack/cluster.sh up`")
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
    record = _read_pid_record(state / "owner.pid")
    if record and _same_process(*record):
        os.kill(record[0], signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _same_process(*record) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _same_process(*record):
            os.kill(record[0], signal.SIGKILL)
    if state.exists():
        cleanup_state_dir(state)
    _stderr_log("down")
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
        _stderr_log("warning: the control plane is not up (`hack/cluster.sh up`)")
    sys.stdout.flush()
    os.execve(path, [tool, *args], env)
    return 127  # pragma: no cover


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("kubectl", "helm"):
        try:
            return exec_tool(argv[0], argv[1:])
        except ControlPlaneError as exc:
            _stderr_log(str(exc))
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
        _stderr_log(f"error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
