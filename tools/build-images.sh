#!/usr/bin/env bash
# Build the inference and operator images: tools/build-images.sh [TAG] (default dev).
# Needs a running container engine (CONTAINER_ENGINE, default docker; podman works too).
# Where none runs, says so and exits 2: nothing is faked.
set -euo pipefail
cd "$(dirname "$0")/.."

tag="${1:-dev}"
engine="${CONTAINER_ENGINE:-docker}"

if ! command -v "$engine" >/dev/null 2>&1; then
  echo "make images: no container engine: '$engine' is not installed." >&2
  echo "Install Docker or Podman (CONTAINER_ENGINE=podman), then run make images again." >&2
  exit 2
fi
if ! "$engine" info >/dev/null 2>&1; then
  echo "make images: no container engine: '$engine info' failed (is its daemon running?)." >&2
  echo "The images were NOT built. Start the engine, then run make images again." >&2
  exit 2
fi

revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)"
for part in inference operator; do
  echo "==> building hotswap-${part}:${tag}"
  "$engine" build \
    --file "Dockerfile.${part}" \
    --tag "hotswap-${part}:${tag}" \
    --build-arg "VERSION=${version}" \
    --build-arg "REVISION=${revision}" \
    .
done
echo "built hotswap-inference:${tag} and hotswap-operator:${tag}"
