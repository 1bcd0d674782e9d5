#!/usr/bin/env bash
# Roll both Sora Helm releases of one environment to one image tag, and wait until it serves.
#
#   hack/rollout.sh ENV TAG        helm upgrade --atomic the operator, then the platform, to TAG
#                                  (the commit SHA CI pushed), then wait for the SoraDeployment's
#                                  Ready condition; if it does not come, both releases go back
#                                  to the revisions they had before and the command fails
#   hack/rollout.sh current ENV    print the tag the platform release runs now
#
# Rolling back is the same command with an older tag (prod tags are immutable: a SHA always
# names the same image): hack/rollout.sh prod <previous SHA>. docs/delivery.md has the steps.
#
# Names (releases, namespaces, charts, repositories) come from terraform/delivery.json through
# hack/delivery.py, the file Terraform reads too. Needs helm, kubectl and a kubeconfig for the
# environment's cluster (aws eks update-kubeconfig --name "sora-<env>"). The registry is
# SORA_REGISTRY (<account>.dkr.ecr.<region>.amazonaws.com); the releases must exist (installed
# by Terraform with deploy_sora = true, or by hand: terraform/README.md): an upgrade keeps their
# other values (--reuse-values) and changes only the image.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
ready_timeout="${SORA_READY_TIMEOUT:-10m}"

die() { echo "rollout: $*" >&2; exit 1; }
names() { eval "$(python3 hack/delivery.py shell "$1")"; }

current_tag() {
    helm get values "$PLATFORM_RELEASE" --namespace "$PLATFORM_NAMESPACE" --output json \
        | python3 -c 'import json, sys; print((json.load(sys.stdin).get("image") or {}).get("tag") or "")'
}

revision() { helm status "$1" --namespace "$2" --output json | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])'; }

upgrade() { # release namespace chart repository
    helm upgrade "$1" "$3" --namespace "$2" --atomic --wait --timeout 10m --reuse-values \
        --set "image.repository=$SORA_REGISTRY/$4" --set "image.tag=$TAG"
}

case "${1:-}" in
    current)
        [[ $# -eq 2 ]] || die "usage: hack/rollout.sh current ENV"
        names "$2"
        current_tag
        ;;
    dev | staging | prod)
        [[ $# -eq 2 ]] || die "usage: hack/rollout.sh ENV TAG"
        [[ -n "${SORA_REGISTRY:-}" ]] || die "SORA_REGISTRY must name the ECR registry (<account>.dkr.ecr.<region>.amazonaws.com)"
        [[ "$2" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "TAG must be an image tag, got '$2'"
        names "$1"
        TAG="$2"
        operator_before="$(revision "$OPERATOR_RELEASE" "$OPERATOR_NAMESPACE")"
        platform_before="$(revision "$PLATFORM_RELEASE" "$PLATFORM_NAMESPACE")"
        echo "rollout: $ENVIRONMENT to $TAG (operator revision $operator_before, platform revision $platform_before before)"
        upgrade "$OPERATOR_RELEASE" "$OPERATOR_NAMESPACE" "$OPERATOR_CHART" "$OPERATOR_REPOSITORY"
        upgrade "$PLATFORM_RELEASE" "$PLATFORM_NAMESPACE" "$PLATFORM_CHART" "$SERVICES_REPOSITORY"
        # Helm waited for the objects it owns; the operator reports the platform's own readiness.
        if ! kubectl --namespace "$PLATFORM_NAMESPACE" wait --for=condition=Ready \
            "soradeployment/$PLATFORM_RELEASE" --timeout="$ready_timeout"; then
            echo "rollout: $PLATFORM_RELEASE not Ready within $ready_timeout; rolling both releases back" >&2
            helm rollback "$PLATFORM_RELEASE" "$platform_before" --namespace "$PLATFORM_NAMESPACE" --wait
            helm rollback "$OPERATOR_RELEASE" "$operator_before" --namespace "$OPERATOR_NAMESPACE" --wait
            exit 1
        fi
        echo "rollout: $ENVIRONMENT runs $TAG"
        ;;
    *)
        die "usage: hack/rollout.sh ENV TAG | current ENV (ENV: dev, staging, prod)"
        ;;
esac
