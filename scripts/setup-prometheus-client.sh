#!/usr/bin/env bash
# The Prometheus project's Python client (PyPI `prometheus_client`), whose text-format and strict
# OpenMetrics parsers check `probe --format openmetrics` in tests/it/probe.rs. Idempotent.
set -euo pipefail
if python3 -c 'import prometheus_client' >/dev/null 2>&1; then
    exit 0
fi
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore 'prometheus_client>=0.20,<1'
python3 -c 'import prometheus_client'
