#!/usr/bin/env bash
# Installs the system tools the test suite uses, if they are missing:
#   promtool + prometheus (Debian `prometheus`, 2.42), amtool + Alertmanager (Debian `prometheus-alertmanager`, 0.25,
#   for deploy/'s alert delivery test), Chromium (Debian `chromium`) for the browser tests, and
#   Python's strict OpenMetrics parser (Debian `python3-prometheus-client`), and jq (docs/MIGRATION_FROM_PYTHON.md's
#   one-liners are run by docs-check).
set -euo pipefail
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
[ -x /usr/bin/prometheus-alertmanager ] || need+=(prometheus-alertmanager)
[ -x /usr/bin/chromium ] || need+=(chromium)
/usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' >/dev/null 2>&1 || need+=(python3-prometheus-client)
command -v jq >/dev/null 2>&1 || need+=(jq)
# VictoriaMetrics (Debian `victoria-metrics`, 1.79): a remote-write receiver for packages/metrics-remote-write's tests.
[ -x /usr/bin/victoria-metrics ] || need+=(victoria-metrics)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "system-deps: need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1
  fi
fi
echo "system-deps: installing ${need[*]} with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
