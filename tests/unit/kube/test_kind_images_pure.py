"""Pure parts of the e2e tier's image builds and kind configuration."""

from __future__ import annotations

import yaml

from tests.support import controlplane as cp
from tests.support import images, kind_cluster, kindnode


def test_content_hash_changes_with_any_part_and_with_part_boundaries() -> None:
    assert images.content_hash(["a", "b"]) == images.content_hash([b"a", b"b"])
    assert images.content_hash(["a", "b"]) != images.content_hash(["a", "c"])
    assert images.content_hash(["ab", ""]) != images.content_hash(["a", "b"])


def test_dockerfile_sources_are_the_copied_context_paths_only() -> None:
    text = (
        "FROM x AS build\nCOPY pyproject.toml uv.lock \\\n  README.md ./\n"
        "COPY services/ services/\n"
        "FROM y\nCOPY --from=build --chown=root:root /opt/sora /opt/sora\n"
    )
    assert images.dockerfile_sources(text) == [
        "pyproject.toml",
        "uv.lock",
        "README.md",
        "services/",
    ]


def test_project_dockerfiles_copy_nothing_the_dockerignore_leaves_out() -> None:
    allowed = {
        line.removeprefix("!").rstrip("/")
        for line in (images.REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    for dockerfile in images.PROJECT_DOCKERFILES.values():
        sources = images.dockerfile_sources(dockerfile.read_text())
        assert {s.rstrip("/") for s in sources} <= allowed


def test_project_dockerfiles_take_a_separate_build_stage_base() -> None:
    """The build machine's CA goes into BUILD_IMAGE only, never into the final image."""
    for dockerfile in images.PROJECT_DOCKERFILES.values():
        text = dockerfile.read_text()
        assert "ARG BUILD_IMAGE=${PYTHON_IMAGE}" in text
        assert "FROM ${BUILD_IMAGE} AS build" in text
        assert "\nFROM ${PYTHON_IMAGE}\n" in text


def test_mmdebstrap_writes_a_minbase_tarball_to_stdout() -> None:
    args = images.mmdebstrap_args(["systemd", "curl"])
    assert args[:2] == ["mmdebstrap", "--variant=minbase"]
    assert "--include=curl,systemd" in args
    assert args[-3:] == [images.DEBIAN_SUITE, "-", images.DEBIAN_MIRROR]


def test_cluster_has_a_control_plane_and_two_workers_and_kubelets_accept_cgroup_v1() -> None:
    config = kindnode.cluster_config(upstream=True)
    assert [n["role"] for n in config["nodes"]] == ["control-plane", "worker", "worker"]
    # kind's names for them, which the tests address nodes by
    assert kind_cluster.workers("sora-e2e") == ["sora-e2e-worker", "sora-e2e-worker2"]
    patches = [yaml.safe_load(p) for p in config["kubeadmConfigPatches"]]
    assert {"kind": "KubeletConfiguration", "failCgroupV1": False} in patches
    assert all(p["kind"] != "ClusterConfiguration" for p in patches)


def test_local_cluster_runs_the_etcd_release_built_here() -> None:
    patches = [
        yaml.safe_load(p) for p in kindnode.cluster_config(upstream=False)["kubeadmConfigPatches"]
    ]
    etcd = next(p for p in patches if p["kind"] == "ClusterConfiguration")
    assert etcd["etcd"]["local"]["imageTag"] == cp.ETCD_VERSION
    assert kindnode.kubeadm_images()["etcd"].endswith(f":{cp.ETCD_VERSION}")


def test_kind_storage_manifest_is_kinds_constant_with_our_images() -> None:
    go = (
        'const storageProvisionerImage = "docker.io/kindest/lpp:1"\n'
        "const defaultStorageManifest = `\nkind: Deployment\n"
        "image: ` + storageProvisionerImage + `\nhelper: ` + storageHelperImage + `\n`\n"
    )
    manifest = kindnode.kind_storage_manifest(go, "local/lpp:1", "local/helper:1")
    assert manifest == "\nkind: Deployment\nimage: local/lpp:1\nhelper: local/helper:1\n"


def test_metrics_server_gets_our_image_and_skips_kubelet_certificate_checks() -> None:
    kustomized = (
        "      containers:\n      - args:\n        - --cert-dir=/tmp\n"
        "        - --secure-port=10250\n"
        "        image: gcr.io/k8s-staging-metrics-server/metrics-server:master\n"
    )
    manifest = kindnode.metrics_server_manifest(kustomized, "sora.local/metrics-server:v0.8.0")
    assert "image: sora.local/metrics-server:v0.8.0" in manifest
    assert "        - --kubelet-insecure-tls\n" in manifest
