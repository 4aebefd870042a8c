#!/usr/bin/env bash
# dnsmasq from Debian's packages: tests/it/probe.rs starts a private instance on a loopback port as
# the real DNS server that `probe --dns-server` asks (an answer, and a "no such name").
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
