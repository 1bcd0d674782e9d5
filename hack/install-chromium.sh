#!/usr/bin/env bash
# Installs Debian's Chromium for the admin panel's browser tests (Playwright
# drives it through executable_path; the project never downloads a browser
# build of its own). Idempotent: does nothing when /usr/bin/chromium exists.
# Prints the path of the browser on success.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
    echo "$CHROMIUM"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-chromium: needs root (or sudo) to run apt-get" >&2
        exit 1
    fi
    sudo="sudo"
fi
echo "install-chromium: installing chromium with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
# Other jobs on the machine may hold the dpkg lock: wait for it rather than fail.
apt=($sudo apt-get -o DPkg::Lock::Timeout=600 -y --no-install-recommends)
"${apt[@]}" install chromium >&2 \
    || { "${apt[@]}" update >&2 && "${apt[@]}" install chromium >&2; }
[ -x "$CHROMIUM" ] || { echo "install-chromium: $CHROMIUM missing after install" >&2; exit 1; }
echo "$CHROMIUM"
