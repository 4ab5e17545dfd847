"""The real manifests on a real node (docs/node.md): the operator on its ServiceAccount token,
the training Job's version on the shared volume verified, the images running as UID 10001 on a
read-only root, a Canary rolling the version out to every pod (probes pass: pods Ready),
predictions through pod IPs. The tests run in file order, on one deployment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import nodes
from .conftest import Deployed

MODELS = Path("/var/lib/hotswap-node/models")  # the hostPath PV of manifests/overlays/node
INFERENCE, OPERATOR = "hotswap-inference", "hotswap-operator"


def running_pods(deployed: Deployed, name: str, count: int, *, ready: bool) -> list[Any]:
    def check() -> list[Any]:
        found = [p for p in nodes.pods(deployed.kubeconfig, name) if not ready or nodes.ready(p)]
        return found if len(found) == count else []

    state = "Ready" if ready else "Running"
    return list(nodes.wait(check, timeout=300, what=f"{count} {state} {name} pods"))


def assert_uid_10001_on_read_only_root(pod: Any, container: str) -> None:
    pid = nodes.container_pid(pod, container)
    assert nodes.process_uids(pid) == [10001] * 4, f"{container}: {nodes.process_uids(pid)}"
    assert "ro" in nodes.root_mount_options(pid), nodes.root_mount_options(pid)


def test_operator_ready_on_its_service_account_token(deployed: Deployed) -> None:
    with nodes.stage("operator pod Ready"):
        (pod,) = running_pods(deployed, OPERATOR, 1, ready=True)
    assert_uid_10001_on_read_only_root(pod, "operator")
    pid = nodes.container_pid(pod, "operator")
    # /var/run is a symlink to /run in Debian-based images; through /proc/<pid>/root an absolute
    # symlink would resolve on the host, so the real path is read.
    token_file = Path(f"/proc/{pid}/root/run/secrets/kubernetes.io/serviceaccount/token")
    token = token_file.read_text().strip()
    who = nodes.whoami(deployed.kubeconfig, token)
    assert who == "system:serviceaccount:hotswap:hotswap-operator"


def test_training_job_publishes_a_version_the_operator_verifies(deployed: Deployed) -> None:
    with nodes.stage("training Job complete"):
        nodes.wait(
            lambda: nodes.get(deployed.kubeconfig, "job", "hotswap-train-once")["status"].get(
                "succeeded"
            ),
            timeout=600,
            what="job/hotswap-train-once succeeded",
            every=2,
        )
    with nodes.stage("ModelVersion Verified by the operator"):
        verified = nodes.wait(
            lambda: [
                mv
                for mv in nodes.get(deployed.kubeconfig, "modelversions")["items"]
                if condition(mv, "Verified") == "True"
            ],
            timeout=120,
            what="a Verified ModelVersion",
        )
    assert (MODELS / verified[0]["spec"]["artifactPath"]).is_dir()


def test_inference_pods_run_as_uid_10001_on_a_read_only_root(deployed: Deployed) -> None:
    with nodes.stage("inference pods Running"):
        found = running_pods(deployed, INFERENCE, 2, ready=False)
    for pod in found:
        assert_uid_10001_on_read_only_root(pod, "inference")
        assert pod["status"]["podIP"].startswith("10.244.0.")


def test_canary_rolls_it_out_and_every_pod_serves_it(deployed: Deployed) -> None:
    (mv,) = nodes.get(deployed.kubeconfig, "modelversions")["items"]
    name, version = mv["metadata"]["name"], mv["spec"]["version"]
    manifest = deployed.kubeconfig.parent / "canary.yaml"
    manifest.write_text(
        "apiVersion: hotswap.dev/v1alpha1\nkind: Canary\nmetadata: {name: intent}\n"
        f"spec: {{model: intent, version: {name}, selector: {{matchLabels: "
        "{app.kubernetes.io/name: hotswap-inference}}}\n"
    )
    with nodes.stage("Canary Ready, inference pods Ready (probes pass)"):
        nodes.kubectl(deployed.kubeconfig, "apply", "-n", nodes.NAMESPACE, "-f", str(manifest))
        nodes.wait(
            lambda: (
                condition(nodes.get(deployed.kubeconfig, "canary", "intent"), "Ready") == "True"
            ),
            timeout=180,
            what="canary/intent Ready",
        )
        found = running_pods(deployed, INFERENCE, 2, ready=True)
    for pod in found:
        ip = pod["status"]["podIP"]
        status = nodes.admin_status(ip, deployed.reload_token)
        assert (status.get("stable") or {}).get("version") == version, status
        assert nodes.predict(ip) == (200, version)


def condition(body: dict[str, Any], kind: str) -> str:
    for found in (body.get("status") or {}).get("conditions") or []:
        if found.get("type") == kind:
            return str(found.get("status"))
    return ""


def test_a_deleted_pod_is_replaced_and_serves_the_version(deployed: Deployed) -> None:
    (mv,) = nodes.get(deployed.kubeconfig, "modelversions")["items"]
    version = mv["spec"]["version"]
    before = running_pods(deployed, INFERENCE, 2, ready=True)
    gone = before[0]["metadata"]["name"]
    with nodes.stage("deleted inference pod replaced, Ready, serving (preStop + drain)"):
        nodes.kubectl(deployed.kubeconfig, "delete", "pod", "-n", nodes.NAMESPACE, gone)

        def replaced() -> list[Any]:
            found = [p for p in nodes.pods(deployed.kubeconfig, INFERENCE) if nodes.ready(p)]
            names = {p["metadata"]["name"] for p in found}
            return found if len(found) == 2 and gone not in names else []

        after = nodes.wait(replaced, timeout=180, what=f"2 Ready inference pods without {gone}")
    assert len(after) == 2 and gone not in {p["metadata"]["name"] for p in after}
    for pod in after:
        ip = pod["status"]["podIP"]
        nodes.wait(
            lambda ip=ip: nodes.predict(ip) == (200, version),
            timeout=60,
            what=f"{ip} answering with {version}",
        )
