#!/usr/bin/env bash
# Build the inference and operator images: tools/build-images.sh [TAG] (default dev).
#
# With a running Docker (or CONTAINER_ENGINE=podman): `<engine> build` on the official
# python:3.11 slim base, as before. Without one, when buildah is installed
# (tools/install-system-deps.sh --node): buildah, chroot isolation, on a base made from Debian
# packages with mmdebstrap, no registry needed. Each step is cached under
# ${HOTSWAP_CACHE:-~/.cache/hotswap}/images by its inputs (docs/node.md):
#   base-<hash>.tar                    the Debian rootfs (hash of suite, packages, mirrors)
#   hotswap-<part>-<tag>-<hash>.tar    docker-archive of each image (hash of its build context),
#                                      which `ctr images import` loads into containerd
# Where neither runs, says so and exits 2: nothing is faked (HOTSWAP_BUILDAH names another
# buildah command; the tests name a missing one).
set -euo pipefail
cd "$(dirname "$0")/.."

tag="${1:-dev}"
engine="${CONTAINER_ENGINE:-docker}"
cache="${HOTSWAP_CACHE:-$HOME/.cache/hotswap}/images"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)"

# The Debian base: what mmdebstrap installs and where from (the inputs of its cache key).
SUITE=bookworm
PACKAGES=python3,python3-venv,python-is-python3,ca-certificates,netbase,tzdata
MIRRORS=(
  "deb http://deb.debian.org/debian bookworm main"
  "deb http://deb.debian.org/debian bookworm-updates main"
  "deb http://deb.debian.org/debian-security bookworm-security main"
)
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

build_with_engine() {
  for part in inference operator; do
    echo "==> building hotswap-${part}:${tag} with ${engine}"
    "$engine" build \
      --file "Dockerfile.${part}" \
      --tag "hotswap-${part}:${tag}" \
      --build-arg "VERSION=${version}" \
      --build-arg "REVISION=${revision}" \
      .
  done
  echo "built hotswap-inference:${tag} and hotswap-operator:${tag}"
}

hash_of() { sha256sum | cut -c1-16; }

base_image() { # prints the local base image name; builds the rootfs and the image when missing
  local key rootfs image container
  key=$(printf '%s\n' "$SUITE" "$PACKAGES" "${MIRRORS[@]}" | hash_of)
  rootfs="$cache/base-$key.tar" image="localhost/hotswap-base:$key"
  if ! buildah inspect --type image "$image" >/dev/null 2>&1; then
    if [[ ! -s $rootfs ]]; then
      echo "==> mmdebstrap: Debian $SUITE minbase + $PACKAGES (cold: 1-8 min)" >&2
      mkdir -p "$cache"
      mmdebstrap --quiet --format=tar --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs.tmp" \
        "${MIRRORS[@]}" >&2
      mv -f "$rootfs.tmp" "$rootfs"
    fi
    echo "==> base image $image from $rootfs" >&2
    container=$(buildah from scratch)
    buildah add --quiet "$container" "$rootfs" / >&2
    buildah config --cmd python3 \
      --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$container"
    buildah commit --quiet --format docker "$container" "$image" >/dev/null
    buildah rm "$container" >/dev/null
  fi
  echo "$image"
}

context_hash() { # context_hash <Dockerfile> <base>: everything the build reads
  { echo "$2"; cat "$1"; git ls-files -co --exclude-standard pyproject.toml setup.py README.md \
      requirements hotswap inference operator | grep -v '__pycache__' | LC_ALL=C sort | xargs cat; } | hash_of
}

build_part() { # build_part <part> <base>: one image with buildah, saved as a docker-archive
  local part=$1 base=$2 archive started=$SECONDS
  archive="$cache/hotswap-${part}-${tag}-$(context_hash "Dockerfile.${part}" "$base").tar"
  if [[ -s $archive ]]; then
    echo "==> hotswap-${part}:${tag}: cached at $archive"
    return
  fi
  echo "==> building hotswap-${part}:${tag} with buildah on $base (cold: 2-10 min)"
  mkdir -p "$cache"  # the base image may be in buildah's storage while this cache was emptied
  buildah bud --quiet --isolation chroot --format docker --layers \
    --volume "$CA_BUNDLE:$CA_BUNDLE:ro" \
    --build-arg "PYTHON_IMAGE=$base" \
    --build-arg "VERSION=${version}" \
    --build-arg "REVISION=${revision}" \
    --file "Dockerfile.${part}" --tag "hotswap-${part}:${tag}" . >/dev/null
  rm -f "$cache/hotswap-${part}-${tag}-"*.tar
  buildah push --quiet "hotswap-${part}:${tag}" \
    "docker-archive:$archive.tmp:docker.io/library/hotswap-${part}:${tag}"
  mv -f "$archive.tmp" "$archive"
  echo "==> hotswap-${part}:${tag}: $((SECONDS - started))s, $(du -h "$archive" | cut -f1)"
}

build_with_buildah() { # both images at once: much of each build waits on the network or disk
  local base part pids=() failed=0 pid
  base=$(base_image)
  for part in inference operator; do
    build_part "$part" "$base" &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  (( failed == 0 )) || { echo "make images: a buildah build failed (above)" >&2; exit 1; }
}

if command -v "$engine" >/dev/null 2>&1 && "$engine" info >/dev/null 2>&1; then
  build_with_engine
elif [[ -z ${CONTAINER_ENGINE:-} ]] && command -v "${HOTSWAP_BUILDAH:-buildah}" >/dev/null 2>&1; then
  build_with_buildah
else
  echo "make images: no container engine: '$engine' is not installed or not running," >&2
  echo "and buildah is not installed (bash tools/install-system-deps.sh --node)." >&2
  echo "The images were NOT built." >&2
  exit 2
fi
