#!/usr/bin/env bash
# Installs the real `pre-commit` (from PyPI) into a cached virtualenv for tests/it/precommit.rs.
# Idempotent: when the venv already has a working pre-commit this only prints its path.
# The venv lives in $MAILCFG_PRECOMMIT_VENV (default: target/tools/pre-commit-venv, next to the
# build cache, so a clean clone installs it once and `cargo clean` removes it).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${MAILCFG_PRECOMMIT_VENV:-$PWD/target/tools/pre-commit-venv}"
VERSION="${MAILCFG_PRECOMMIT_VERSION:-4.0.1}"
if [ -x "$VENV/bin/pre-commit" ] && "$VENV/bin/pre-commit" --version 2>/dev/null | grep -q "$VERSION"; then
    echo "pre-commit $VERSION already in $VENV"
    exit 0
fi
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pre-commit==$VERSION"
"$VENV/bin/pre-commit" --version
