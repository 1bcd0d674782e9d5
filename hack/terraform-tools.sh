#!/usr/bin/env bash
# Terraform and the providers the Sora roots use, built from their Go modules.
#
#   hack/terraform-tools.sh terraform      print the path of a Terraform 1.11.4 binary (building it once)
#   hack/terraform-tools.sh providers      build the providers into a local filesystem mirror (once) and
#                                          print the path of a CLI configuration that installs from it
#   hack/terraform-tools.sh status         say what is already built, build nothing
#   hack/terraform-tools.sh run ARGS...    run that Terraform with that CLI configuration
#
# Why: neither the Terraform registry nor releases.hashicorp.com can be reached from these machines,
# but Terraform and its providers are Go modules, served by the Go module proxy. Builds land in
# ${SORA_TERRAFORM_CACHE:-~/.cache/sora-terraform}, keyed by version, and are reused afterwards:
#   bin/terraform-<version>
#   mirror/registry.terraform.io/hashicorp/<name>/<version>/<os>_<arch>/terraform-provider-<name>_v<version>
#   terraformrc                  provider_installation from the mirror only, for registry.terraform.io/hashicorp/*
#   plugin-cache/                the providers unpacked once, linked into working directories
#   gomod/, go-build/            Go module and build caches of these builds
#
# A `terraform` already on PATH is used when it is exactly TERRAFORM_VERSION.
# Cold build times on 2 cores: see docs/terraform.md.
set -euo pipefail

TERRAFORM_VERSION="1.11.4"
# Terraform's main module replaces nine nested modules with ./internal/... directories, which its
# module zip leaves out; the proxy serves them separately at the commit of the v1.11.4 tag.
TERRAFORM_NESTED_VERSION="v0.0.0-20250409131005-35645b8fca68"
TERRAFORM_NESTED_MODULES=(
    internal/backend/remote-state/azure
    internal/backend/remote-state/consul
    internal/backend/remote-state/cos
    internal/backend/remote-state/gcs
    internal/backend/remote-state/kubernetes
    internal/backend/remote-state/oss
    internal/backend/remote-state/pg
    internal/backend/remote-state/s3
    internal/legacy
)

# name | Go module | module version (the proxy serves these repositories only as pseudo-versions
# of their default branch) | version announced in the mirror (from the module's version/VERSION).
PROVIDERS=(
    "aws|github.com/hashicorp/terraform-provider-aws|v1.60.1-0.20260602190131-5f2286d6d836|6.47.1"
    "helm|github.com/hashicorp/terraform-provider-helm|v1.3.3-0.20260629194918-a4f1c1d8b008|3.2.0"
    "kubernetes|github.com/hashicorp/terraform-provider-kubernetes|v1.13.4-0.20260821094251-3a33fb6cc605|3.2.1"
)

cache="${SORA_TERRAFORM_CACHE:-$HOME/.cache/sora-terraform}"
log() { echo "terraform-tools: $*" >&2; }
die() { log "$*"; exit 1; }

need_go() {
    command -v go >/dev/null 2>&1 || die "the go command is needed to build Terraform and its providers"
    export GOMODCACHE="$cache/gomod" GOCACHE="$cache/go-build" GOFLAGS="-mod=readonly"
    platform="$(go env GOOS)_$(go env GOARCH)"
}

# One builder at a time per cache: test runs may start together on a fresh machine.
lock() {
    mkdir -p "$cache"
    exec 9>"$cache/.lock"
    flock 9
}

module_dir() { # module@version -> directory of its extracted source in the module cache
    go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'
}

terraform_on_path() {
    local found
    found="$(command -v terraform 2>/dev/null)" || return 1
    [[ "$("$found" version 2>/dev/null | head -n1)" == "Terraform v$TERRAFORM_VERSION" ]] || return 1
    echo "$found"
}

terraform_cached() { echo "$cache/bin/terraform-$TERRAFORM_VERSION"; }

cmd_terraform() {
    if terraform_on_path; then return; fi
    local binary
    binary="$(terraform_cached)"
    if [[ ! -x "$binary" ]]; then
        need_go
        lock
        if [[ ! -x "$binary" ]]; then
            local start work src nested
            start=$SECONDS
            log "building Terraform $TERRAFORM_VERSION from its Go module (first run only)"
            work="$cache/src/terraform-$TERRAFORM_VERSION"
            rm -rf "$work" && mkdir -p "$(dirname "$work")" "$cache/bin"
            src="$(module_dir "github.com/hashicorp/terraform@v$TERRAFORM_VERSION")"
            [[ -n "$src" ]] || die "could not download github.com/hashicorp/terraform@v$TERRAFORM_VERSION"
            cp -r "$src" "$work" && chmod -R u+w "$work"
            for module in "${TERRAFORM_NESTED_MODULES[@]}"; do
                nested="$(module_dir "github.com/hashicorp/terraform/$module@$TERRAFORM_NESTED_VERSION")"
                [[ -n "$nested" ]] || die "could not download github.com/hashicorp/terraform/$module"
                rm -rf "${work:?}/$module" && cp -r "$nested" "$work/$module"
            done
            chmod -R u+w "$work"
            # go.mod sets `godebug tlskyber=0`, a setting newer Go releases (1.26 here) no longer
            # know and refuse: drop it. It only changed the default TLS key exchange.
            sed -i '/^godebug tlskyber=/d' "$work/go.mod"
            # version.dev=no: a release build, reporting "1.11.4" rather than "1.11.4-dev".
            (cd "$work" && nice -n 10 go build -trimpath \
                -ldflags="-s -w -X github.com/hashicorp/terraform/version.dev=no" -o "$binary.tmp" .)
            mv "$binary.tmp" "$binary"
            rm -rf "$work"
            log "Terraform $TERRAFORM_VERSION built in $((SECONDS - start)) s"
        fi
    fi
    echo "$binary"
}

provider_path() { # name version -> path in the mirror
    echo "$cache/mirror/registry.terraform.io/hashicorp/$1/$2/$platform/terraform-provider-$1_v$2"
}

write_cli_config() {
    mkdir -p "$cache/plugin-cache"
    cat >"$cache/terraformrc" <<EOF
# Written by hack/terraform-tools.sh: providers of registry.terraform.io/hashicorp come from the
# local mirror built from their Go modules; there is no network installation. Working directories
# link to one unpacked copy in the plugin cache instead of copying the (large) binaries each time.
plugin_cache_dir                          = "$cache/plugin-cache"
plugin_cache_may_break_dependency_lock_file = true

provider_installation {
  filesystem_mirror {
    path    = "$cache/mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
EOF
    echo "$cache/terraformrc"
}

cmd_providers() {
    need_go
    local entry name module version announced target src start
    for entry in "${PROVIDERS[@]}"; do
        IFS='|' read -r name module version announced <<<"$entry"
        target="$(provider_path "$name" "$announced")"
        [[ -x "$target" ]] && continue
        lock
        [[ -x "$target" ]] && continue
        start=$SECONDS
        log "building provider $name $announced from $module@$version (first run only)"
        src="$(module_dir "$module@$version")"
        [[ -n "$src" ]] || die "could not download $module@$version"
        mkdir -p "$(dirname "$target")"
        (cd "$src" && nice -n 10 go build -trimpath -ldflags="-s -w" -o "$target.tmp" .)
        mv "$target.tmp" "$target"
        log "provider $name built in $((SECONDS - start)) s"
    done
    write_cli_config
}

cmd_status() {
    local entry name module version announced platform_guess
    if path="$(terraform_on_path)"; then
        echo "terraform: $path (on PATH)"
    elif [[ -x "$(terraform_cached)" ]]; then
        echo "terraform: $(terraform_cached) (built)"
    else
        echo "terraform: not built"
    fi
    platform_guess="$(go env GOOS 2>/dev/null || echo linux)_$(go env GOARCH 2>/dev/null || echo amd64)"
    platform="$platform_guess"
    for entry in "${PROVIDERS[@]}"; do
        IFS='|' read -r name module version announced <<<"$entry"
        if [[ -x "$(provider_path "$name" "$announced")" ]]; then
            echo "provider $name $announced: built"
        else
            echo "provider $name $announced: not built"
        fi
    done
}

cmd_run() {
    local terraform config
    terraform="$(cmd_terraform)"
    config="$(cmd_providers)"
    TF_CLI_CONFIG_FILE="$config" TF_IN_AUTOMATION=1 exec "$terraform" "$@"
}

case "${1:-}" in
    terraform) cmd_terraform ;;
    providers) cmd_providers ;;
    status) cmd_status ;;
    run) shift; cmd_run "$@" ;;
    *) sed -n '2,22p' "$0" >&2; exit 2 ;;
esac
