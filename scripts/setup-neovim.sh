#!/usr/bin/env bash
# Neovim from Debian's packages, for the end-to-end editor test (tests/lsp_neovim.rs).
# Idempotent: does nothing when `nvim` is already installed.
set -euo pipefail
if command -v nvim >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends neovim >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y --no-install-recommends neovim >/dev/null
fi
command -v nvim >/dev/null
