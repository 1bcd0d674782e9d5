"""The kind cluster of the e2e tier: its node image, assembled here, and its configuration.

No container registry answers on the machines this project is built on, so the node
image is put together the way kind's own builder does it (``kind build node-image``),
from parts built here: a Debian root file system (mmdebstrap) with Debian's containerd,
runc and CNI plugins, kind's ``images/base`` files from the ``sigs.k8s.io/kind`` Go
module, the Kubernetes binaries built by tests/support/controlplane/, and the images
kubeadm asks for (kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy,
etcd, CoreDNS, pause) plus the CNI (tests/support/kind/sora-cni.sh), local-path
storage and metrics-server, each a small image over ``sora/debian``. They are imported
into the node's containerd (running inside the build container) with ``ctr images
import``, and the container is committed as ``sora/kind-node:<hash>``.

Where the public registries answer (a GitHub Actions runner), ``SORA_KIND_IMAGES=upstream``
uses kind's own node image and upstream images instead.

    python -m tests.support.kindnode build    build or reuse the node image, print its tag
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.support import controlplane as cp
from tests.support import images

SUPPORT = Path(__file__).resolve().parent / "kind"
IMAGES_ENV = "SORA_KIND_IMAGES"  # "local" (default) or "upstream"
#: The Kubernetes tools the node image and the cluster's images are made of.
NODE_TOOLS = (
    "kubelet",
    "kubeadm",
    "kubectl",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
    "etcd",
    "coredns",
    "crictl",
    "metrics-server",
    "local-path-provisioner",
)
#: Debian packages of the node's root file system: what kind's images/base installs.
NODE_PACKAGES = (
    "ca-certificates",
    "conntrack",
    "containerd",
    "containernetworking-plugins",
    "curl",
    "ethtool",
    "iproute2",
    "iptables",
    "jq",
    "kmod",
    "libseccomp2",
    "nftables",
    "pigz",
    "procps",
    "runc",
    "socat",
    "systemd",
)
PAUSE_VERSION = "3.10.2"
UPSTREAM_METRICS_SERVER_IMAGE = (
    f"registry.k8s.io/metrics-server/metrics-server:{cp.METRICS_SERVER_VERSION}"
)
#: Names of the locally built images that kubeadm's defaults do not name.
LOCAL_NAMES = {
    "cni": "sora.local/cni:1",
    "local-path-provisioner": (
        f"sora.local/local-path-provisioner:{cp.LOCAL_PATH_PROVISIONER_VERSION}"
    ),
    "local-path-helper": "sora.local/local-path-helper:bookworm",
    "metrics-server": f"sora.local/metrics-server:{cp.METRICS_SERVER_VERSION}",
}


def use_upstream_images() -> bool:
    value = os.environ.get(IMAGES_ENV, "local")
    if value not in {"local", "upstream"}:
        raise ValueError(f"{IMAGES_ENV} must be 'local' or 'upstream', not {value!r}")
    return value == "upstream"


# --------------------------------------------------------------------------------------
# Pure helpers (unit tested)
# --------------------------------------------------------------------------------------


def kubeadm_images(version: str = cp.KUBERNETES_VERSION) -> dict[str, str]:
    """Component -> the image name kubeadm uses for it (etcd: the version we build)."""
    registry = "registry.k8s.io"
    return {
        **{
            name: f"{registry}/{name}:{version}"
            for name in (
                "kube-apiserver",
                "kube-controller-manager",
                "kube-scheduler",
                "kube-proxy",
            )
        },
        "etcd": f"{registry}/etcd:{cp.ETCD_VERSION}",
        "coredns": f"{registry}/coredns/coredns:{cp.COREDNS_VERSION}",
        "pause": f"{registry}/pause:{PAUSE_VERSION}",
    }


#: Workers of the e2e cluster: two, so that draining one has somewhere to move pods to.
WORKERS = 2


def cluster_config(upstream: bool) -> dict[str, Any]:
    """kind's Cluster: one control plane, ``WORKERS`` workers; kubelet allowed on cgroup v1."""
    patches: list[dict[str, Any]] = [
        {"kind": "KubeletConfiguration", "failCgroupV1": False},
        # kubeadm gives the API server one minute to answer by default; on two busy
        # cores its first start can take longer.
        {
            "kind": "InitConfiguration",
            "timeouts": {"kubernetesAPICall": "5m0s", "controlPlaneComponentHealthCheck": "10m0s"},
        },
    ]
    if not upstream:
        # kubeadm's default etcd tag is its own build; ours is the pinned etcd release.
        patches.append(
            {
                "kind": "ClusterConfiguration",
                "etcd": {"local": {"imageTag": cp.ETCD_VERSION}},
            }
        )
    return {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "nodes": [{"role": "control-plane"}, *({"role": "worker"} for _ in range(WORKERS))],
        "kubeadmConfigPatches": [_yaml(p) for p in patches],
    }


def _yaml(data: Mapping[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(dict(data), sort_keys=False)


def kind_storage_manifest(const_storage_go: str, provisioner: str, helper: str) -> str:
    """kind's default local-path storage manifest (a Go string constant), with our images."""
    opening = "const defaultStorageManifest = `"
    if opening not in const_storage_go:
        raise ValueError("kind's const_storage.go no longer defines defaultStorageManifest")
    body = const_storage_go[const_storage_go.index(opening) + len(opening) :]
    body = body.replace("` + storageProvisionerImage + `", provisioner)
    body = body.replace("` + storageHelperImage + `", helper)
    return body[: body.index("`")]


def metrics_server_manifest(kustomized: str, image: str) -> str:
    """metrics-server's own manifests/base, with our image and kubelet certificates not
    verified (kind's kubelets serve self-signed certificates)."""
    replaced = re.sub(r"image: \S+metrics-server\S*", f"image: {image}", kustomized)
    return replaced.replace(
        "- --cert-dir=/tmp\n", "- --cert-dir=/tmp\n        - --kubelet-insecure-tls\n", 1
    )


# --------------------------------------------------------------------------------------
# Building the node image
# --------------------------------------------------------------------------------------


def _kind_module_dir() -> Path:
    info = cp.download_module(cp.find_go(), "sigs.k8s.io/kind", cp.KIND_VERSION, cp.go_env())
    return Path(info["Dir"])


def _module_dir(module: str, version: str) -> Path:
    return Path(cp.download_module(cp.find_go(), module, version, cp.go_env())["Dir"])


def _tree(root: Path) -> dict[str, Path]:
    return {
        str(Path("files") / path.relative_to(root)): path
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _binary_image(
    builder: images.Builder, name: str, base: str, binary: Path, target: str, extra: str = ""
) -> str:
    return builder.docker_build(
        images.DockerBuild(
            name=f"sora/kind-{name}",
            dockerfile=f"FROM {base}\n{extra}COPY bin {target}\n",
            files={"bin": binary},
        )
    )


def _pause_image(builder: images.Builder) -> str:
    source = _module_dir("k8s.io/kubernetes", cp.KUBERNETES_VERSION) / "build/pause/linux/pause.c"
    pause_c = source.read_bytes()
    ref = f"sora/kind-pause:{images.content_hash([pause_c, PAUSE_VERSION])}"

    def build(run: Callable[..., str]) -> None:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="sora-pause-") as tmp:
            (Path(tmp) / "pause.c").write_bytes(pause_c)
            run(
                "gcc",
                "-Os",
                "-static",
                f"-DVERSION=v{PAUSE_VERSION}",
                "-o",
                f"{tmp}/pause",
                f"{tmp}/pause.c",
            )
            (Path(tmp) / "Dockerfile").write_text(
                'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n'
            )
            run("docker", "build", "-t", ref, tmp)

    return builder.ensure(ref, build)


def cluster_images(builder: images.Builder, tools: cp.Toolset) -> dict[str, str]:
    """Upstream name -> local image ref, for everything the node image carries."""
    debian = builder.debian("sora/debian")
    upstream = kubeadm_images()
    refs: dict[str, str] = {}
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
        refs[upstream[name]] = _binary_image(
            builder, name, debian, tools[name], f"/usr/local/bin/{name}"
        )
    refs[upstream["kube-proxy"]] = _binary_image(
        builder,
        "kube-proxy",
        debian,
        tools["kube-proxy"],
        "/usr/local/bin/kube-proxy",
        images.apt_install("iptables", "conntrack", "kmod") + "\n",
    )
    refs[upstream["coredns"]] = builder.docker_build(
        images.DockerBuild(
            name="sora/kind-coredns",
            dockerfile=f'FROM {debian}\nCOPY bin /coredns\nENTRYPOINT ["/coredns"]\n',
            files={"bin": tools["coredns"]},
        )
    )
    refs[upstream["pause"]] = _pause_image(builder)
    refs[LOCAL_NAMES["metrics-server"]] = builder.docker_build(
        images.DockerBuild(
            name="sora/kind-metrics-server",
            dockerfile=f'FROM {debian}\nCOPY bin /metrics-server\nENTRYPOINT ["/metrics-server"]\n'
            "USER 65534:65534\n",
            files={"bin": tools["metrics-server"]},
        )
    )
    refs[LOCAL_NAMES["local-path-provisioner"]] = _binary_image(
        builder,
        "local-path-provisioner",
        debian,
        tools["local-path-provisioner"],
        "/usr/local/bin/local-path-provisioner",
    )
    refs[LOCAL_NAMES["local-path-helper"]] = debian
    refs[LOCAL_NAMES["cni"]] = builder.docker_build(
        images.DockerBuild(
            name="sora/kind-cni",
            dockerfile=f"FROM {debian}\n"
            + images.apt_install("iproute2", "iptables")
            + "\nCOPY kubectl /usr/local/bin/kubectl\nCOPY sora-cni.sh /usr/local/bin/sora-cni\n",
            files={"kubectl": tools["kubectl"], "sora-cni.sh": SUPPORT / "sora-cni.sh"},
        )
    )
    return refs


def node_image(builder: images.Builder, log: images.Log = images._stderr_log) -> str:
    """The kind node image (built or reused): ``sora/kind-node:<hash>``."""
    tools = cp.ensure_tools([*NODE_TOOLS, "kind"], log=log)
    kind_dir = _kind_module_dir()
    rootfs = builder.debian("sora/kind-rootfs", NODE_PACKAGES)
    wrapper = Path(
        subprocess.run(
            [str(cp.REPO_ROOT / "hack" / "docker-engine.sh"), "runc-wrapper"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    base = builder.docker_build(
        images.DockerBuild(
            name="sora/kind-base",
            dockerfile=(SUPPORT / "base.Dockerfile").read_text().replace("ROOTFS", rootfs),
            files={**_tree(kind_dir / "images" / "base" / "files"), "runc-capbnd": wrapper},
        )
    )
    refs = cluster_images(builder, tools)
    upstream = kubeadm_images()
    storage = kind_storage_manifest(
        (kind_dir / "pkg" / "build" / "nodeimage" / "const_storage.go").read_text(),
        LOCAL_NAMES["local-path-provisioner"],
        LOCAL_NAMES["local-path-helper"],
    )
    bits = builder.docker_build(
        images.DockerBuild(
            name="sora/kind-node-bits",
            dockerfile=f"FROM {base}\n"
            "COPY kubelet kubeadm kubectl /usr/bin/\n"
            "COPY crictl /usr/local/bin/crictl\n"
            "COPY containerd.toml /etc/containerd/config.toml\n"
            "COPY default-cni.yaml default-storage.yaml /kind/manifests/\n"
            f"RUN echo {cp.KUBERNETES_VERSION} > /kind/version\n",
            files={
                "kubelet": tools["kubelet"],
                "kubeadm": tools["kubeadm"],
                "kubectl": tools["kubectl"],
                "crictl": tools["crictl"],
                "containerd.toml": (SUPPORT / "containerd.toml")
                .read_text()
                .replace("PAUSE_IMAGE", upstream["pause"])
                .encode(),
                "default-cni.yaml": (SUPPORT / "sora-cni.yaml")
                .read_text()
                .replace("CNI_IMAGE", LOCAL_NAMES["cni"])
                .encode(),
                "default-storage.yaml": storage.encode(),
            },
        )
    )
    parts = [bits, *(f"{name}={ref}" for name, ref in sorted(refs.items()))]
    ref = f"sora/kind-node:{images.content_hash(parts)}"

    def assemble(run: Callable[..., str]) -> None:
        container = f"sora-kind-build-{os.getpid()}"

        def inside(*command: str) -> str:
            return run("docker", "exec", container, *command)

        run("docker", "run", "-d", "--name", container, "--entrypoint=sleep", bits, "infinity")
        try:
            inside("bash", "-c", "nohup containerd > /tmp/containerd.log 2>&1 &")
            inside(
                "bash",
                "-c",
                "for i in $(seq 1 100); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.2; done;"
                " exit 1",
            )
            for name, local in sorted(refs.items()):
                run("docker", "tag", local, name)
            run(
                "docker",
                "exec",
                "-i",
                container,
                "ctr",
                "--namespace=k8s.io",
                "images",
                "import",
                "--label=io.cri-containerd.pinned=pinned",
                "--all-platforms",
                "--no-unpack",
                "--digests",
                "-",
                pipe_from=["docker", "save", *sorted(refs)],
            )
            inside("pkill", "containerd")
            inside("rm", "-f", "/tmp/containerd.log")
            run(
                "docker",
                "commit",
                "--change",
                'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]',
                container,
                ref,
            )
        finally:
            subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)

    return builder.ensure(ref, assemble)


def metrics_server_yaml(kubectl: Path, upstream: bool) -> str:
    base = (
        _module_dir("sigs.k8s.io/metrics-server", cp.METRICS_SERVER_VERSION) / "manifests" / "base"
    )
    kustomized = subprocess.run(
        [str(kubectl), "kustomize", str(base)], capture_output=True, text=True, check=True
    ).stdout
    image = UPSTREAM_METRICS_SERVER_IMAGE if upstream else LOCAL_NAMES["metrics-server"]
    return metrics_server_manifest(kustomized, image)


def main(argv: Sequence[str]) -> int:
    if list(argv) != ["build"]:
        print(__doc__, file=sys.stderr)
        return 2
    builder = images.Builder()
    started = time.monotonic()
    print(node_image(builder))
    images._stderr_log(f"{builder.summary()}; {time.monotonic() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
