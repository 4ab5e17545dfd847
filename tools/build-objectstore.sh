#!/usr/bin/env bash
# Build (once) versitygw, the S3-compatible server the object-store tests run against, from the
# Go module pinned in tools/objectstore/go.mod, into
#   ${HOTSWAP_CACHE:-~/.cache/hotswap}/bin/versitygw-<version>/versitygw
#
#   bash tools/build-objectstore.sh           build it when missing, print progress
#   bash tools/build-objectstore.sh --path    print its path, build nothing
#
# Cold build on 2 cores: about 3.5 CPU-minutes (7.5 min wall on a loaded machine); a no-op once
# cached. MinIO is AGPL; versitygw is Apache-2.0.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${HOTSWAP_CACHE:-$HOME/.cache/hotswap}
export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-mod=readonly

module=github.com/versity/versitygw
version=$(awk -v m="$module" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$here/objectstore/go.mod")
out=$cache/bin/versitygw-$version/versitygw

if [[ ${1:-} == --path ]]; then
    echo "$out"
    exit 0
fi
if [[ -x $out ]]; then
    echo "==> versitygw: cached at $out"
    exit 0
fi
command -v go >/dev/null || { echo "build-objectstore: Go (1.26+) is required" >&2; exit 1; }
started=$SECONDS
echo "==> versitygw $version: building (cold Go caches: ~4 min on 2 cores; warm: seconds)"
mkdir -p "$(dirname "$out")"
(cd "$here/objectstore" && go mod download && \
    go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$out.$$.tmp" "$module/cmd/versitygw")
mv -f "$out.$$.tmp" "$out"  # atomic: a concurrent run sees all or nothing
echo "==> versitygw: built $out in $((SECONDS - started))s"
