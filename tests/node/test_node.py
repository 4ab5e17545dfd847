"""The real manifests on a real node (docs/node.md): pods Ready as UID 10001 on a read-only
root, the operator on its ServiceAccount token, the training Job's version verified, a Canary
rolling it out to every pod, predictions through pod IPs. The tests run in file order."""

from __future__ import annotations

from pathlib import Path

from .conftest import Deployed
from . import nodes

MODELS = Path("/var/lib/hotswap-node/models")
INFERENCE, OPERATOR = "hotswap-inference", "hotswap-operator"


def ready_pods(deployed: Deployed, name: str, count: int) -> list[dict[str, object]]:
    def check() -> list[dict[str, object]]:
        found = [p for p in nodes.pods(deployed.kubeconfig, name) if nodes.ready(p)]
        return found if len(found) == count else []

    return list(nodes.wait(check, timeout=300, what=f"{count} Ready {name} pods"))


def test_inference_pods_ready_as_uid_10001_on_a_read_only_root(deployed: Deployed) -> None:
    with nodes.stage("inference pods Ready (probes pass)"):
        found = ready_pods(deployed, INFERENCE, 2)
    for pod in found:
        pid = nodes.container_pid(pod, "inference")  # type: ignore[arg-type]
        assert nodes.process_uids(pid) == [10001] * 4
        assert "ro" in nodes.root_mount_options(pid)
        assert pod["status"]["podIP"].startswith("10.244.0.")  # type: ignore[index]


def test_operator_ready_on_its_service_account_token(deployed: Deployed) -> None:
    with nodes.stage("operator pod Ready"):
        (pod,) = ready_pods(deployed, OPERATOR, 1)
    pid = nodes.container_pid(pod, "operator")  # type: ignore[arg-type]
    assert nodes.process_uids(pid) == [10001] * 4
    assert "ro" in nodes.root_mount_options(pid)
    mounted = Path(f"/proc/{pid}/root/var/run/secrets/kubernetes.io/serviceaccount/token")
    token = mounted.read_text().strip()
    who = nodes.kubectl(deployed.kubeconfig, "auth", "whoami", f"--token={token}", "-o",
                        "jsonpath={.status.userInfo.username}")
    assert who == "system:serviceaccount:hotswap:hotswap-operator"


def test_training_job_publishes_a_version_the_operator_verifies(deployed: Deployed) -> None:
    with nodes.stage("training Job complete"):
        nodes.wait(
            lambda: nodes.get(deployed.kubeconfig, "job", "hotswap-train-once")["status"]
            .get("succeeded"),
            timeout=600,
            what="job/hotswap-train-once succeeded",
            every=2,
        )
    with nodes.stage("ModelVersion Verified by the operator"):
        verified = nodes.wait(
            lambda: [mv for mv in nodes.get(deployed.kubeconfig, "modelversions")["items"]
                     if _condition(mv, "Verified") == "True"],
            timeout=120,
            what="a Verified ModelVersion",
        )
    spec = verified[0]["spec"]
    assert (MODELS / spec["artifactPath"]).is_dir()


def test_canary_rolls_it_out_and_every_pod_serves_it(deployed: Deployed) -> None:
    (mv,) = nodes.get(deployed.kubeconfig, "modelversions")["items"]
    name, version = mv["metadata"]["name"], mv["spec"]["version"]
    canary = (
        "apiVersion: hotswap.dev/v1alpha1\nkind: Canary\nmetadata: {name: intent}\n"
        f"spec: {{model: intent, version: {name}, selector: {{matchLabels: "
        "{app.kubernetes.io/name: hotswap-inference}}}\n"
    )
    manifest = Path(deployed.kubeconfig).parent / "canary.yaml"
    manifest.write_text(canary)
    with nodes.stage("Canary Ready (every pod reloaded)"):
        nodes.kubectl(deployed.kubeconfig, "apply", "-n", nodes.NAMESPACE, "-f", str(manifest))
        nodes.wait(
            lambda: _condition(nodes.get(deployed.kubeconfig, "canary", "intent"), "Ready")
            == "True",
            timeout=180,
            what="canary/intent Ready",
        )
    for pod in nodes.pods(deployed.kubeconfig, INFERENCE):
        ip = pod["status"]["podIP"]
        status = nodes.admin_status(ip, deployed.reload_token)
        assert (status.get("stable") or {}).get("version") == version, status
        assert nodes.predict(ip) == (200, version)


def _condition(body: dict[str, object], kind: str) -> str:
    status = body.get("status") or {}
    for found in status.get("conditions") or []:  # type: ignore[union-attr]
        if found.get("type") == kind:
            return str(found.get("status"))
    return ""
