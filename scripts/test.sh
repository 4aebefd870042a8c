#!/usr/bin/env bash
# The whole test suite, as the README gives it. Installs and starts what the tests need (each
# helper script is idempotent and installs only what is missing), runs every test, cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

# Real Dovecot (IMAP/POP3) and Postfix (SMTP) on loopback for the probe tests.
if [ -f scripts/mailservers.sh ]; then
    export MAILSRV_DIR="${MAILSRV_DIR:-/tmp/mailcfg-mailsrv}"
    bash scripts/mailservers.sh start
    trap 'bash scripts/mailservers.sh stop' EXIT
    set -a; . "$MAILSRV_DIR/env"; set +a
fi
# Other tools the end-to-end tests drive (pre-commit, Neovim, ...).
for setup in scripts/setup-*.sh; do
    [ -f "$setup" ] && bash "$setup"
done

cargo test --all-targets "$@"
