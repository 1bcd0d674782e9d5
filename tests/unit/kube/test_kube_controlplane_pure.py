"""Pure parts of the control-plane harness: go.mod handling, version stamps, kubeconfig."""

from __future__ import annotations

import base64
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.support import controlplane as cp

KUBERNETES_GO_MOD = textwrap.dedent(
    """\
    // This is a generated file. Do not edit directly.

    module k8s.io/kubernetes

    go 1.26.0

    godebug default=go1.26

    require (
    \tgithub.com/blang/semver/v4 v4.0.0
    \tk8s.io/api v0.0.0
    \tk8s.io/apimachinery v0.0.0 // pinned
    \tk8s.io/streaming v0.0.0
    \tk8s.io/cri-streaming v0.0.0
    )

    require k8s.io/client-go v0.0.0

    replace (
    \tk8s.io/api => ./staging/src/k8s.io/api
    \tk8s.io/apimachinery => ./staging/src/k8s.io/apimachinery
    \tk8s.io/client-go => ./staging/src/k8s.io/client-go
    \tk8s.io/cri-streaming => ./staging/src/k8s.io/cri-streaming
    \tk8s.io/streaming => ./staging/src/k8s.io/streaming
    \tk8s.io/sample-controller => ./staging/src/k8s.io/sample-controller
    \tgithub.com/example/fork => github.com/example/fork v1.2.3
    )
    """
)

ETCD_GO_MOD = textwrap.dedent(
    """\
    module go.etcd.io/etcd/server/v3

    go 1.26.0

    toolchain go1.26.10

    require (
    \tgo.etcd.io/etcd/api/v3 v3.6.16
    \tgo.etcd.io/etcd/client/v3 v3.6.16
    \tgo.etcd.io/etcd/pkg/v3 v3.6.16
    )

    replace (
    \tgo.etcd.io/etcd/api/v3 => ../api
    \tgo.etcd.io/etcd/client/v3 => ../client/v3
    \tgo.etcd.io/etcd/pkg/v3 => ../pkg
    )

    // Bad imports are sometimes causing attempts to pull that code.
    replace go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY

    replace go.etcd.io/tests/v3 => ./FORBIDDEN_DEPENDENCY
    """
)


def test_parse_go_mod_reads_module_go_godebug_require_and_replace() -> None:
    mod = cp.parse_go_mod(KUBERNETES_GO_MOD)
    assert mod.module == "k8s.io/kubernetes"
    assert mod.go == "1.26.0"
    assert mod.godebug == ["default=go1.26"]
    assert mod.require["k8s.io/apimachinery"] == "v0.0.0"
    assert mod.require["k8s.io/client-go"] == "v0.0.0"  # single-line require
    fork = next(r for r in mod.replace if r.old == "github.com/example/fork")
    assert fork.new_version == "v1.2.3"
    assert not fork.is_local
    assert all(r.is_local for r in mod.replace if r.old.startswith("k8s.io/"))


def test_parse_go_mod_toolchain_and_single_line_replaces() -> None:
    mod = cp.parse_go_mod(ETCD_GO_MOD)
    assert mod.toolchain == "go1.26.10"
    assert {r.old for r in mod.replace} >= {"go.etcd.io/etcd", "go.etcd.io/tests/v3"}


def test_builder_replaces_cover_every_required_local_module_including_new_ones() -> None:
    replaces = cp.builder_replaces(cp.parse_go_mod(KUBERNETES_GO_MOD), "v0.36.3")
    assert replaces == {
        "k8s.io/api": "v0.36.3",
        "k8s.io/apimachinery": "v0.36.3",
        "k8s.io/client-go": "v0.36.3",
        "k8s.io/cri-streaming": "v0.36.3",
        "k8s.io/streaming": "v0.36.3",
    }  # sample-controller is replaced upstream but not required: left out


def test_builder_replaces_skip_etcds_forbidden_dependency_guards() -> None:
    replaces = cp.builder_replaces(cp.parse_go_mod(ETCD_GO_MOD), "v3.6.16")
    assert replaces == {
        "go.etcd.io/etcd/api/v3": "v3.6.16",
        "go.etcd.io/etcd/client/v3": "v3.6.16",
        "go.etcd.io/etcd/pkg/v3": "v3.6.16",
    }


def test_render_builder_go_mod_round_trips_through_the_parser() -> None:
    text = cp.render_builder_go_mod(
        module="sora.invalid/kube-builder/kubernetes",
        go="1.26.0",
        godebug=["default=go1.26"],
        require={"k8s.io/kubernetes": "v1.36.3"},
        replace={"k8s.io/api": "v0.36.3"},
        tools=["k8s.io/kubernetes/cmd/kube-apiserver"],
    )
    assert "\tk8s.io/api => k8s.io/api v0.36.3\n" in text
    mod = cp.parse_go_mod(text)
    assert mod.module == "sora.invalid/kube-builder/kubernetes"
    assert mod.go == "1.26.0"
    assert mod.godebug == ["default=go1.26"]
    assert mod.require == {"k8s.io/kubernetes": "v1.36.3"}
    assert mod.replace == [cp.Replace("k8s.io/api", None, "k8s.io/api", "v0.36.3")]
    assert mod.tool == ["k8s.io/kubernetes/cmd/kube-apiserver"]


@pytest.mark.parametrize(
    ("kube", "staging"),
    [("v1.36.3", "v0.36.3"), ("v1.37.0-rc.1", "v0.37.0-rc.1"), ("v1.9.10", "v0.9.10")],
)
def test_staging_version(kube: str, staging: str) -> None:
    assert cp.staging_version(kube) == staging


def test_staging_version_rejects_other_majors() -> None:
    with pytest.raises(ValueError, match=r"v1\.x\.y"):
        cp.staging_version("v2.0.0")


def test_kube_version_ldflags_stamp_both_version_packages() -> None:
    flags = cp.kube_version_ldflags("v1.36.3", "2026-01-02T03:04:05Z")
    for pkg in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version"):
        assert f"-X {pkg}.gitVersion=v1.36.3" in flags
        assert f"-X {pkg}.gitMajor=1" in flags
        assert f"-X {pkg}.gitMinor=36" in flags
        assert f"-X {pkg}.gitTreeState=clean" in flags
        assert f"-X {pkg}.buildDate=2026-01-02T03:04:05Z" in flags


def test_helm_version_ldflags_derive_the_kubernetes_minor_from_client_go() -> None:
    flags = cp.helm_version_ldflags("v3.22.0", "v0.37.0")
    assert "-X helm.sh/helm/v3/internal/version.version=v3.22.0" in flags
    assert "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37" in flags
    assert "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1" in flags


@pytest.mark.parametrize(
    ("package", "binary"),
    [
        ("go.etcd.io/etcd/server/v3", "server"),
        ("k8s.io/kubernetes/cmd/kube-apiserver", "kube-apiserver"),
        ("sigs.k8s.io/kind", "kind"),
    ],
)
def test_go_binary_name(package: str, binary: str) -> None:
    assert cp.go_binary_name(package) == binary


def test_every_control_plane_tool_has_a_build() -> None:
    assert set(cp.CONTROL_PLANE_TOOLS) <= set(cp.TOOL_BUILDS)
    assert cp.TOOL_BUILDS["kube-apiserver"].replace_version == cp.staging_version(
        cp.KUBERNETES_VERSION
    )


def test_render_kubeconfig_embeds_the_ca_and_token() -> None:
    config = cp.render_kubeconfig("https://127.0.0.1:6443", b"PEM", "secret-token")
    text = yaml.safe_dump(config)
    loaded = yaml.safe_load(text)
    cluster = loaded["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["certificate-authority-data"]) == b"PEM"
    assert loaded["users"][0]["user"] == {"token": "secret-token"}
    context = loaded["contexts"][0]
    assert loaded["current-context"] == context["name"]
    assert context["context"] == {"cluster": cluster_name(loaded), "user": "admin"}


def cluster_name(config: dict[str, object]) -> str:
    clusters = config["clusters"]
    assert isinstance(clusters, list)
    return str(clusters[0]["name"])


def test_render_token_file() -> None:
    text = cp.render_token_file([("abc", "admin", ["system:masters", "extra"])])
    assert text == 'abc,admin,admin,"system:masters,extra"\n'
    with pytest.raises(ValueError, match="commas"):
        cp.render_token_file([("a,b", "admin", [])])


def test_resolve_kustomize_stages_concatenates_nested_resources(tmp_path: Path) -> None:
    (tmp_path / "node" / "fast").mkdir(parents=True)
    (tmp_path / "pod").mkdir()
    (tmp_path / "fast").mkdir()
    (tmp_path / "fast" / "kustomization.yaml").write_text(
        "kind: Kustomization\nresources:\n- ../node/fast\n- ../pod\n"
    )
    (tmp_path / "node" / "fast" / "kustomization.yaml").write_text("resources:\n- node-init.yaml\n")
    (tmp_path / "node" / "fast" / "node-init.yaml").write_text(
        "kind: Stage\nmetadata:\n  name: a\n"
    )
    (tmp_path / "pod" / "kustomization.yaml").write_text("resources: [ready.yaml, done.yaml]\n")
    (tmp_path / "pod" / "ready.yaml").write_text("---\nkind: Stage\nmetadata:\n  name: b\n")
    (tmp_path / "pod" / "done.yaml").write_text("kind: Stage\nmetadata:\n  name: c\n")
    docs = list(yaml.safe_load_all(cp.resolve_kustomize_stages(tmp_path / "fast")))
    assert [d["metadata"]["name"] for d in docs] == ["a", "b", "c"]


def test_resolve_kustomize_stages_refuses_patches(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\npatches: []\n")
    with pytest.raises(cp.ControlPlaneError, match="unsupported"):
        cp.resolve_kustomize_stages(tmp_path)


def test_kwok_node_manifest_is_managed_by_kwok_and_untainted() -> None:
    node = cp.kwok_node_manifest("kwok-node-0")
    assert node["metadata"]["annotations"][cp.KWOK_NODE_ANNOTATION] == "fake"
    assert "taints" not in node["spec"]
    assert node["status"]["allocatable"]["pods"] == "110"


def test_proc_start_time_handles_spaces_and_parens_in_the_command_name() -> None:
    fields = " ".join(str(n) for n in range(3, 30))  # field 3 .. 29
    stat = f"1234 (odd) name)) {fields}"
    assert cp.proc_start_time(stat) == 22
    assert cp.proc_state("99 (a) b) Z 1 2 3") == "Z"


def test_cache_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cp.CACHE_DIR_ENV, "/somewhere/kube")
    assert cp.cache_root() == Path("/somewhere/kube")
    assert cp.version_dir() == Path("/somewhere/kube") / cp.KUBERNETES_VERSION
    monkeypatch.delenv(cp.CACHE_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert cp.cache_root() == Path("/xdg/sora-kube")


def test_find_tools_prefers_the_environment_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(cp.CACHE_DIR_ENV, str(tmp_path / "cache"))
    given = tmp_path / "given"
    given.mkdir()
    (given / "etcd").write_text("#!/bin/sh\n")
    (given / "etcd").chmod(0o755)
    monkeypatch.setenv(cp.BIN_DIR_ENV, str(given))
    found, missing = cp.find_tools(["etcd", "kwok"])
    assert found == {"etcd": given / "etcd"}
    assert missing == ["kwok"]


def test_find_tools_ignores_cached_binaries_of_another_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(cp.CACHE_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(cp.BIN_DIR_ENV, raising=False)
    bin_dir = cp.version_dir() / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "helm").write_text("#!/bin/sh\n")
    (bin_dir / "helm").chmod(0o755)
    (cp.version_dir() / "manifest.json").write_text('{"helm": "v0.0.1"}')
    assert cp.find_tools(["helm"]) == ({}, ["helm"])
    (cp.version_dir() / "manifest.json").write_text(f'{{"helm": "{cp.HELM_VERSION}"}}')
    assert cp.find_tools(["helm"]) == ({"helm": bin_dir / "helm"}, [])


def test_aligned_staging_requires_lift_only_the_same_minor() -> None:
    upstream = cp.parse_go_mod(
        "module sigs.k8s.io/kwok\n\ngo 1.26.0\n\nrequire (\n"
        "\tk8s.io/api v0.36.1\n\tk8s.io/client-go v0.36.3\n"
        "\tk8s.io/utils v0.0.0-20260101000000-abcdef\n\tk8s.io/klog/v2 v2.130.1\n"
        "\tk8s.io/kube-openapi v0.35.0\n)\n"
    )
    assert cp.aligned_staging_requires(upstream, "v1.36.3") == {"k8s.io/api": "v0.36.3"}
