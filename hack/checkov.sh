#!/usr/bin/env bash
# Run checkov from its own virtual environment.
#
#   hack/checkov.sh [CHECKOV ARGS...]      e.g. hack/checkov.sh -d terraform --framework terraform
#   hack/checkov.sh --install-only         build the environment and exit
#
# checkov ships a top-level `hcl2` module that clashes with python-hcl2 in the project's .venv,
# so it lives apart: ${SORA_CHECKOV_HOME:-~/.cache/sora-checkov}/venv-<hash of the pins>, built
# from hack/checkov-requirements.txt (every package pinned). Changing the pins builds a new
# environment; an unchanged one is reused, so only the first run pays for the install.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$here/checkov-requirements.txt"
home="${SORA_CHECKOV_HOME:-$HOME/.cache/sora-checkov}"
python="${SORA_CHECKOV_PYTHON:-python3}"

key="$(sha256sum "$requirements" | cut -c1-12)"
venv="$home/venv-$key"

mkdir -p "$home"
# The marker is written last, so an interrupted install is detected and redone.
marker="$venv/.complete"
if [[ ! -f "$marker" ]]; then
    # One installer at a time: several test runs may start on a fresh machine together.
    exec 9>"$home/.lock"
    flock 9
    if [[ ! -f "$marker" ]]; then
        echo "checkov.sh: installing pinned checkov into $venv (first run only)" >&2
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --no-deps -r "$requirements"
        touch "$marker"
    fi
    exec 9>&-
fi

if [[ "${1:-}" == "--install-only" ]]; then
    "$venv/bin/checkov" --version
    exit 0
fi
exec "$venv/bin/checkov" "$@"
