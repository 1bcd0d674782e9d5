#!/usr/bin/env bash
# Builds Prometheus' promtool from the Go module proxy, once per version, into
# ~/.cache/sora-promtool/<version>/promtool and prints that path on stdout.
# Idempotent: a cached binary is reused; concurrent callers wait on a lock.
#   PROMTOOL_VERSION  module version of github.com/prometheus/prometheus
#                     (v0.3xx.y is Prometheus v3.xx.y)
set -euo pipefail

version="${PROMTOOL_VERSION:-v0.316.0}"
cache_root="${SORA_PROMTOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sora-promtool}"
dir="$cache_root/$version"
binary="$dir/promtool"

if [ -x "$binary" ]; then
    echo "$binary"
    exit 0
fi

if ! command -v go >/dev/null 2>&1; then
    echo "promtool: go is not installed; cannot build promtool $version" >&2
    exit 1
fi

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if [ -x "$binary" ]; then  # built by another caller while we waited
    echo "$binary"
    exit 0
fi

staging="$(mktemp -d "$dir/.build.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
echo "promtool: building github.com/prometheus/prometheus/cmd/promtool@$version ($(go version))" >&2
start=$(date +%s)
GOBIN="$staging" GOFLAGS="${GOFLAGS:-} -trimpath" CGO_ENABLED=0 \
    nice -n 10 go install "github.com/prometheus/prometheus/cmd/promtool@$version" >&2
mv "$staging/promtool" "$binary"
end=$(date +%s)
echo "promtool: built $version in $((end - start))s -> $binary" >&2
"$binary" --version >&2 || true
echo "$binary"
