#!/usr/bin/env bash
# Build (once) kube-apiserver and etcd from Go modules, envtest style, into
#   ${HOTSWAP_CACHE:-~/.cache/hotswap}/bin/<version>/
# Versions come from tools/controlplane/go.mod and tools/etcd/go.mod (the only place they live).
#
#   bash tools/build-control-plane.sh           build what is missing, print progress
#   bash tools/build-control-plane.sh --paths   print KUBE_APISERVER=... and ETCD=..., build nothing
#   bash tools/build-control-plane.sh --node    also kubelet, kube-controller-manager and
#                                               kube-scheduler (tools/node/go.mod; docs/node.md)
#
# Cold build on 2 cores: about 8 minutes, ~4 GB of Go caches (measured, docs/control-plane.md);
# seconds when only the binaries are missing; a no-op once they are cached.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${HOTSWAP_CACHE:-$HOME/.cache/hotswap}

# Locally installed Go only, no go.work, never touch go.mod; the environment's GOFLAGS are replaced
# (not appended to) so a developer's setting cannot change what gets built.
export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-mod=readonly

module_version() { # module_version <go.mod> <module path>
    awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$1"
}

KUBE_VERSION=$(module_version "$here/controlplane/go.mod" k8s.io/kubernetes)
ETCD_VERSION=$(module_version "$here/etcd/go.mod" go.etcd.io/etcd/server/v3)
KUBE_BIN=$cache/bin/$KUBE_VERSION/kube-apiserver
ETCD_BIN=$cache/bin/$ETCD_VERSION/etcd

kube_ldflags() {
    local major minor flags="-s -w" pkg
    major=${KUBE_VERSION#v}; major=${major%%.*}
    minor=${KUBE_VERSION#v*.}; minor=${minor%%.*}
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major"
        flags+=" -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    done
    echo "$flags"
}

progress() { # progress <label> <total>: go build -v output -> a line per 100 packages; errors as is
    local n=0 line
    while IFS= read -r line; do
        if [[ $line == *" "* || $line == "#"* ]]; then
            echo "$line"
        elif (( ++n % 100 == 0 )); then
            echo "  [$1] $n/~$2 packages, $((SECONDS - started))s"
        fi
    done
}

build() { # build <label> <module dir> <package> <output> <tags> <ldflags> <cold time>
    local label=$1 dir=$2 pkg=$3 out=$4 tags=$5 ldflags=$6 total started=$SECONDS
    if [[ -x $out ]]; then
        echo "==> $label: cached at $out"
        return
    fi
    echo "==> $label: building $pkg (cold Go caches: $7 on 2 cores; warm: seconds)"
    mkdir -p "$(dirname "$out")"
    (cd "$dir" && go mod download)
    total=$(cd "$dir" && go list -tags "$tags" -deps "$pkg" | wc -l)
    (cd "$dir" && go build -v -trimpath -buildvcs=false -tags "$tags" -ldflags "$ldflags" \
        -o "$out.$$.tmp" "$pkg") 2>&1 | progress "$label" "$total"
    mv -f "$out.$$.tmp" "$out"  # atomic: a concurrent run sees all or nothing
    echo "==> $label: built $out in $((SECONDS - started))s"
}

build_node() { # build_node <bin dir> <tags> <ldflags>: the node's three commands, in ONE go build
    # (the three's own packages and links run in parallel, not one binary after the other); only
    # the missing ones.
    local dir=$1 tags=$2 ldflags=$3 cmd missing=() pkgs=() total started=$SECONDS tmp
    for cmd in kubelet kube-controller-manager kube-scheduler; do
        if [[ -x $dir/$cmd ]]; then echo "==> $cmd: cached at $dir/$cmd"; else missing+=("$cmd"); fi
    done
    (( ${#missing[@]} )) || return 0
    for cmd in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
    echo "==> ${missing[*]}: one go build (cold Go caches: ~20 min on 2 cores; docs/node.md)"
    mkdir -p "$dir"
    tmp=$(mktemp -d "$dir/.node-build.XXXXXX")
    (cd "$here/node" && go mod download)
    total=$(cd "$here/node" && go list -tags "$tags" -deps "${pkgs[@]}" | wc -l)
    (cd "$here/node" && go build -v -trimpath -buildvcs=false -tags "$tags" -ldflags "$ldflags" \
        -o "$tmp/" "${pkgs[@]}") 2>&1 | progress node "$total"
    for cmd in "${missing[@]}"; do mv -f "$tmp/$cmd" "$dir/$cmd"; done  # atomic per binary
    rmdir "$tmp"
    echo "==> ${missing[*]}: built in $((SECONDS - started))s"
}

if [[ ${1:-} == --paths ]]; then
    echo "KUBE_APISERVER=$KUBE_BIN"
    echo "ETCD=$ETCD_BIN"
    exit 0
fi

command -v go >/dev/null || { echo "build-control-plane: Go (1.26+) is required" >&2; exit 1; }
build etcd "$here/etcd" go.etcd.io/etcd/server/v3 "$ETCD_BIN" grpcnotrace "-s -w" "~1 min"
build kube-apiserver "$here/controlplane" k8s.io/kubernetes/cmd/kube-apiserver "$KUBE_BIN" \
    selinux,notest,grpcnotrace "$(kube_ldflags)" "~7 min"
if [[ ${1:-} == --node ]]; then
    build_node "$cache/bin/$KUBE_VERSION" selinux,notest,grpcnotrace "$(kube_ldflags)"
fi
"$KUBE_BIN" --version
"$ETCD_BIN" --version | sed -n 1p  # sed reads all: head could SIGPIPE etcd (exit 141)
