#!/usr/bin/env bash
# Debian packages the test tiers run: promtool and the Prometheus server (prometheus) for the
# alert rules and the e2e tier, headless Chromium (chromium; fontconfig brings a font) for the
# dashboard page, wrk (wrk) for `make bench`, gcc (gcc) and, where the project's Python has no
# headers (Debian's python3), python3-dev for `make native` (mypyc). Idempotent: a command
# already present is skipped, and apt-get runs only when something is missing. Needs root (or
# sudo) only then.
# --node adds what `make images` without Docker and the node tier need (docs/node.md).
set -euo pipefail

# command -> Debian package that provides it
declare -A PACKAGES=(
  [promtool]=prometheus
  [chromium]=chromium
  [wrk]=wrk
  [gcc]=gcc
)
if [ "${1:-}" = "--node" ]; then
  PACKAGES=(
    [mmdebstrap]=mmdebstrap
    [buildah]=buildah
    [containerd]=containerd
    [runc]=runc
    [/usr/lib/cni/bridge]=containernetworking-plugins
    [iptables]=iptables
    [socat]=socat
    [ip]=iproute2
  )
fi

missing=()
for command in "${!PACKAGES[@]}"; do
  if ! command -v "$command" >/dev/null 2>&1 && [ ! -x "$command" ]; then
    missing+=("${PACKAGES[$command]}")
  fi
done
has_headers='import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'
if [ "${1:-}" != "--node" ] && ! "${PYTHON:-python3}" -c "$has_headers" 2>/dev/null; then
  missing+=(python3-dev)
fi

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${missing[*]} (no apt-get here: install them with your package manager)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "missing: ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  sudo="sudo"
fi

echo "==> installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The prometheus package enables a service where systemd runs; the tests start their own.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
