#!/usr/bin/env bash
# The demo flow in a kind cluster, against the real images: build, create the cluster, load the
# images, apply manifests/overlays/dev, train a first version, deploy it through a Canary, train
# a second, roll it out, roll back. Needs Docker and kind; stops with a message where they are
# missing. KEEP_CLUSTER=1 keeps the cluster afterwards. Every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."

cluster="${KIND_CLUSTER:-hotswap-e2e}"
kubectl=".venv/bin/kubectl"
[ -x "$kubectl" ] || kubectl="kubectl"
k() { "$kubectl" --context "kind-${cluster}" --namespace hotswap "$@"; }

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  echo "make e2e-kind: no Docker engine here ('docker info' failed): nothing was run." >&2
  echo "It needs Docker and kind (https://kind.sigs.k8s.io); see docs/DEPLOYMENT.md." >&2
  exit 2
fi
if ! command -v kind >/dev/null 2>&1; then
  echo "make e2e-kind: kind is not installed: nothing was run (go install sigs.k8s.io/kind@latest)." >&2
  exit 2
fi

bash tools/build-images.sh dev
kind get clusters | grep -qx "$cluster" || kind create cluster --name "$cluster" --wait 120s
cleanup() { [ "${KEEP_CLUSTER:-0}" = 1 ] || kind delete cluster --name "$cluster"; }
trap cleanup EXIT
kind load docker-image --name "$cluster" hotswap-inference:dev hotswap-operator:dev

for secret in manifests/base/reload-token manifests/base/feedback-key; do
  [ -s "$secret" ] || python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > "$secret"
done
"$kubectl" --context "kind-${cluster}" apply --server-side -k manifests/overlays/dev
k wait --for=condition=Complete job/hotswap-train-once --timeout=600s
k rollout status deployment/hotswap-operator --timeout=300s

first="$(k get modelversions -o jsonpath='{.items[0].metadata.name}')"
echo "==> deploying the first version ${first}"
k apply -f - <<YAML
apiVersion: hotswap.dev/v1alpha1
kind: Canary
metadata: {name: intent}
spec:
  model: intent
  version: ${first}
  selector: {matchLabels: {app.kubernetes.io/name: hotswap-inference}}
  strategy:
    type: Steps
    steps:
      - {name: ten-percent, setWeight: 10}
      - {name: soak, pause: {durationSeconds: 20}}
      - {name: half, setWeight: 50}
YAML
k wait --for=condition=Ready canary/intent --timeout=300s
k rollout status deployment/hotswap-inference --timeout=300s

echo "==> training a second version"
k create job --from=cronjob/hotswap-train hotswap-train-second
k wait --for=condition=Complete job/hotswap-train-second --timeout=600s
second="$(k get modelversions --sort-by=.metadata.creationTimestamp -o jsonpath='{.items[-1].metadata.name}')"

echo "==> rolling out ${second} in steps, under traffic"
k port-forward service/hotswap-inference 18000:8000 >/dev/null 2>&1 &
forward=$!
trap 'kill "$forward" 2>/dev/null; cleanup' EXIT
sleep 3
k patch canary intent --type merge -p "{\"spec\":{\"version\":\"${second}\"}}"
for _ in $(seq 1 200); do
  curl -fsS -H 'content-type: application/json' -d '{"input":"I want to book a flight"}' \
    http://127.0.0.1:18000/predict >/dev/null || true
done
k wait --for=condition=Ready canary/intent --timeout=600s
k get canary intent -o jsonpath='{.status.stableVersion}{"\n"}' | grep -qx "$second"

echo "==> rolling back to ${first}"
k patch canary intent --type merge -p "{\"spec\":{\"version\":\"${first}\"}}"
k wait --for=condition=Ready canary/intent --timeout=300s
k get canary intent -o jsonpath='{.status.stableVersion}{"\n"}' | grep -qx "$first"
echo "e2e-kind: deployed, rolled out and rolled back in kind cluster ${cluster}"
