#!/usr/bin/env bash
# dnsmasq from Debian's packages: tests/it/probe.rs, discover.rs and deliverability.rs start private
# instances on loopback ports as the real DNS server that `--dns-server` asks (names, SRV, MX, and
# the SPF/DMARC zones of scripts/dnsmasq-deliverability.conf).
# Idempotent: does nothing when `dnsmasq` is already installed.
set -euo pipefail
if command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends dnsmasq-base >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y --no-install-recommends dnsmasq-base >/dev/null
fi
[ -x /usr/sbin/dnsmasq ]
