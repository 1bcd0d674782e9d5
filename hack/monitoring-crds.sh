#!/usr/bin/env bash
# Fetches the Prometheus Operator's ServiceMonitor and PrometheusRule CRDs from its Go
# module (the module proxy is the one registry that carries them), once per version,
# into ~/.cache/sora-monitoring-crds/<version>/ and prints that directory on stdout.
# The operator's control-plane tests install them to prove its objects are accepted.
#   PROMETHEUS_OPERATOR_VERSION  module version of github.com/prometheus-operator/prometheus-operator
set -euo pipefail

version="${PROMETHEUS_OPERATOR_VERSION:-v0.90.1}"
module="github.com/prometheus-operator/prometheus-operator"
cache_root="${SORA_MONITORING_CRDS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sora-monitoring-crds}"
dir="$cache_root/$version"
crds=(monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_prometheusrules.yaml)

complete() {
    for crd in "${crds[@]}"; do [ -s "$dir/$crd" ] || return 1; done
}

if complete; then
    echo "$dir"
    exit 0
fi
if ! command -v go >/dev/null 2>&1; then
    echo "monitoring-crds: go is not installed; cannot fetch $module@$version" >&2
    exit 1
fi

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if complete; then  # fetched by another caller while we waited
    echo "$dir"
    exit 0
fi
gopath="$(mktemp -d)"
trap 'chmod -R u+w "$gopath"; rm -rf "$gopath"' EXIT
source_dir="$(cd "$gopath" && GOPATH="$gopath" go mod download -json "$module@$version" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')"
for crd in "${crds[@]}"; do
    install -m 0644 "$source_dir/example/prometheus-operator-crd/$crd" "$dir/$crd.partial"
    mv "$dir/$crd.partial" "$dir/$crd"
done
echo "monitoring-crds: fetched $module@$version" >&2
echo "$dir"
