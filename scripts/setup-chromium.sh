#!/usr/bin/env bash
# Chromium from Debian's packages, for the headless-browser test of `probe --format html`
# (tests/it/probe.rs). Idempotent: does nothing when `chromium` is already installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
command -v chromium >/dev/null
