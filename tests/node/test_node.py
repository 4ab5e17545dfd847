"""The real manifests on a real node (docs/node.md): the operator on its ServiceAccount token,
the training Job's version on the shared volume verified, 3 inference pods running as UID 10001
on a read-only root and mounting that one volume, a Canary deploying the version to every pod
(probes pass: pods Ready), a second training run, then a stepped rollout, a pod deleted in its
middle, promote and rollback under live traffic to the Service's ready endpoints with 0 failed
requests. The tests run in file order, on one deployment."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, NamedTuple

from hotswap.local import objects, replicas

from . import nodes
from .conftest import Deployed

MODELS = Path("/var/lib/hotswap-node/models")  # the hostPath PV of manifests/overlays/node
INFERENCE, OPERATOR = "hotswap-inference", "hotswap-operator"
REPLICAS = 3  # the base Deployment's count
COMPILED_LIBRARY = "hotswap_native__mypyc"  # setup.py's group: the compiled request path
STEPS = {  # 20%, a timed pause, 60%, then an open pause that waits for `hotswap promote`
    "type": "Steps",
    "steps": [
        {"name": "twenty", "setWeight": 20},
        {"name": "short-wait", "pause": {"durationSeconds": 3}},
        {"name": "sixty", "setWeight": 60},
        {"name": "approve", "pause": {}},
    ],
}


class Version(NamedTuple):
    name: str  # the ModelVersion's name (what a Canary's spec.version and status name)
    version: str  # its version id (what a pod answers in X-Model-Version)


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
    # the operator is not compiled: the twin of the inference pods' check below
    assert COMPILED_LIBRARY not in Path(f"/proc/{pid}/maps").read_text()


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


def test_three_inference_pods_share_the_volume_as_uid_10001_on_a_read_only_root(
    deployed: Deployed,
) -> None:
    with nodes.stage(f"{REPLICAS} inference pods Running"):
        found = running_pods(deployed, INFERENCE, REPLICAS, ready=False)
    (v1,) = verified_versions(deployed, 1)
    artifact = nodes.get(deployed.kubeconfig, "modelversion", v1.name)["spec"]["artifactPath"]
    volume = os.stat(MODELS)
    for pod in found:
        assert_uid_10001_on_read_only_root(pod, "inference")
        assert pod["status"]["podIP"].startswith("10.244.0.")
        # The pod's /models is the host's volume directory itself (same device and inode), and
        # the version the Job wrote there is in it.
        models = Path(f"/proc/{nodes.container_pid(pod, 'inference')}/root/models")
        seen = os.stat(models)
        assert (seen.st_dev, seen.st_ino) == (volume.st_dev, volume.st_ino), pod["metadata"]
        assert (models / artifact).is_dir(), f"{artifact} not seen by {pod['metadata']['name']}"


def test_canary_deploys_it_and_every_pod_serves_it(deployed: Deployed) -> None:
    (v1,) = verified_versions(deployed, 1)
    with nodes.stage("Canary Ready, inference pods Ready (probes pass)"):
        apply_canary(deployed, v1.name)
        wait_canary(deployed, f"Ready on {v1.name}", lambda c: settled_on(c, v1.name))
        found = running_pods(deployed, INFERENCE, REPLICAS, ready=True)
    for pod in found:
        ip = pod["status"]["podIP"]
        status = nodes.admin_status(ip, deployed.reload_token)
        assert (status.get("stable") or {}).get("version") == v1.version, status
        assert nodes.predict(ip) == (200, v1.version)
        # the image's request path is the mypyc build (Dockerfile.inference), loaded in the pod
        maps = Path(f"/proc/{nodes.container_pid(pod, 'inference')}/maps").read_text()
        assert COMPILED_LIBRARY in maps, f"{pod['metadata']['name']} runs interpreted"


def test_a_second_training_run_publishes_another_version(deployed: Deployed) -> None:
    with nodes.stage("second training Job (from the CronJob) complete, Verified"):
        nodes.kubectl(
            deployed.kubeconfig,
            "create",
            "job",
            "-n",
            nodes.NAMESPACE,
            "--from=cronjob/hotswap-train",
            "hotswap-train-second",
        )
        nodes.wait(
            lambda: nodes.get(deployed.kubeconfig, "job", "hotswap-train-second")["status"].get(
                "succeeded"
            ),
            timeout=600,
            what="job/hotswap-train-second succeeded",
            every=2,
        )
        v1, v2 = verified_versions(deployed, 2)
    assert v1.version != v2.version and (MODELS / "intent").is_dir()


def test_steps_a_pod_deleted_promote_and_rollback_under_live_traffic(deployed: Deployed) -> None:
    v1, v2 = verified_versions(deployed, 2)
    kubeconfig = deployed.kubeconfig
    with nodes.EndpointTraffic(kubeconfig, INFERENCE, seconds=900) as load:
        with nodes.stage("Steps: v2 at 20%, then at the open pause at 60%, all pods converged"):
            apply_canary(deployed, v2.name, strategy=STEPS)
            wait_canary(deployed, "canary at 20%", lambda c: at_weight(c, v2.name, 20))
            wait_canary(deployed, "the open pause at 60%", lambda c: at_weight(c, v2.name, 60))
        victim = running_pods(deployed, INFERENCE, REPLICAS, ready=True)[0]
        gone, gone_ip = victim["metadata"]["name"], victim["status"]["podIP"]
        with nodes.stage("a pod deleted mid-rollout: replaced, Ready, converged at 60%"):
            nodes.kubectl(kubeconfig, "delete", "pod", "-n", nodes.NAMESPACE, gone, "--wait=false")
            wait_canary(
                deployed,
                f"60% converged on {REPLICAS} pods without {gone}",
                lambda c: at_weight(c, v2.name, 60) and gone not in pod_names(c),
            )
        with nodes.stage("hotswap promote: v2 stable on every pod"):
            nodes.hotswap(kubeconfig, "promote", "intent")
            wait_canary(deployed, f"Ready on {v2.name}", lambda c: settled_on(c, v2.name))
        with nodes.stage("hotswap rollback: v1 stable on every pod"):
            nodes.hotswap(kubeconfig, "rollback", "intent")
            wait_canary(deployed, f"Ready on {v1.name}", lambda c: settled_on(c, v1.name))
        time.sleep(3)  # answers after the rollback too
    tally = load.tally
    print(
        f"\nlive traffic: {tally.answered} answered {dict(tally.by_version())}, "
        f"{tally.failed} failed, endpoint sets {load.target_sets}"
    )
    assert tally.failed == 0, f"failed requests: {dict(tally.failures)}"
    assert load.outages == 0, "the Service had no ready endpoint during the rollout"
    assert tally.by_version()[v1.version] > 0 and tally.by_version()[v2.version] > 0
    with_gone = [i for i, found in enumerate(load.target_sets) if gone_ip in found]
    assert with_gone and with_gone[-1] < len(load.target_sets) - 1, (
        f"expected the load on {gone_ip} ({gone}), then off it: {load.target_sets}"
    )
    assert len(load.target_sets[-1]) == REPLICAS, load.target_sets
    for pod in running_pods(deployed, INFERENCE, REPLICAS, ready=True):
        assert nodes.predict(pod["status"]["podIP"]) == (200, v1.version)


def verified_versions(deployed: Deployed, count: int) -> list[Version]:
    """The Verified ModelVersions, oldest first (version ids sort by creation time)."""

    def check() -> list[Version]:
        items = nodes.get(deployed.kubeconfig, "modelversions")["items"]
        found = [
            Version(mv["metadata"]["name"], mv["spec"]["version"])
            for mv in items
            if condition(mv, "Verified") == "True"
        ]
        return sorted(found, key=lambda v: v.version) if len(found) == count else []

    return list(nodes.wait(check, timeout=120, what=f"{count} Verified ModelVersions"))


def apply_canary(deployed: Deployed, version: str, **spec: Any) -> None:
    """`kubectl apply` of the Canary a user keeps in Git, at `version` (Immediate unless a
    strategy is given)."""
    body = objects.canary_manifest(
        "intent",
        model="intent",
        version=version,
        labels={"app.kubernetes.io/name": INFERENCE},
        **spec,
    )
    manifest = deployed.kubeconfig.parent / "canary.json"
    manifest.write_text(json.dumps(body))
    nodes.kubectl(deployed.kubeconfig, "apply", "-n", nodes.NAMESPACE, "-f", str(manifest))


def wait_canary(deployed: Deployed, what: str, check: Any) -> dict[str, Any]:
    def seen() -> dict[str, Any]:
        canary = nodes.get(deployed.kubeconfig, "canary", "intent")
        return canary if check(canary) else {}

    return dict(nodes.wait(seen, timeout=240, what=what))


def settled_on(canary: dict[str, Any], name: str) -> bool:
    """Ready with `name` stable, no canary, every selected pod converged."""
    status = canary.get("status") or {}
    return (
        condition(canary, "Ready") == "True"
        and status.get("stableVersion") == name
        and not status.get("canaryVersion")
        and status.get("convergedPods") == status.get("totalPods") == REPLICAS
    )


def at_weight(canary: dict[str, Any], name: str, weight: int) -> bool:
    """`name` the canary at `weight`, every selected pod converged on that routing."""
    status = canary.get("status") or {}
    return (
        status.get("canaryVersion") == name
        and status.get("weight") == weight
        and status.get("convergedPods") == status.get("totalPods") == REPLICAS
    )


def pod_names(canary: dict[str, Any]) -> set[str]:
    return {pod["name"] for pod in (canary.get("status") or {}).get("pods") or []}


def condition(body: dict[str, Any], kind: str) -> str:
    for found in (body.get("status") or {}).get("conditions") or []:
        if found.get("type") == kind:
            return str(found.get("status"))
    return ""


GRACE_SECONDS = 30  # terminationGracePeriodSeconds of the inference Deployment
IMAGE = "docker.io/library/hotswap-inference:node"
IMAGES = Path(os.environ.get("HOTSWAP_CACHE") or Path.home() / ".cache" / "hotswap") / "images"


def answers_ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def test_the_inference_image_declares_a_healthcheck_and_exits_0_on_sigterm(
    deployed: Deployed,
) -> None:
    """The image as built (not its Dockerfile): HEALTHCHECK and user kept by the build; run by
    containerd as a pod runs it, it serves the volume's version, and SIGTERM ends it with exit
    status 0 well inside the grace period."""
    archive = max(IMAGES.glob("hotswap-inference-node-*.tar"), key=lambda p: p.stat().st_mtime)
    config = nodes.image_config(archive)
    health = config.get("Healthcheck") or {}
    assert health.get("Test", [""])[0] == "CMD" and "/healthz" in " ".join(health["Test"]), config
    assert config.get("User") == "10001:10001", config.get("User")
    port, admin, metrics = replicas.free_ports(3)
    env = {
        "HOTSWAP_HOST": "127.0.0.1",
        "HOTSWAP_PORT": str(port),
        "HOTSWAP_ADMIN_PORT": str(admin),
        "HOTSWAP_METRICS_PORT": str(metrics),
        "HOTSWAP_RELOAD_TOKEN": secrets.token_urlsafe(24),
        "HOTSWAP_FEEDBACK_KEY": secrets.token_urlsafe(32),
    }
    name = f"hotswap-sigterm-{os.getpid()}"
    with nodes.stage("image: serve, then SIGTERM"):
        process = nodes.run_container(IMAGE, name, env, MODELS)
        try:
            nodes.wait(lambda: answers_ready(port), timeout=120, what="the container ready")
            pid = nodes.task_pid(name)
            assert pid is not None, f"container {name} has no task"
            assert nodes.process_uids(pid) == [10001] * 4, nodes.process_uids(pid)
            assert "ro" in nodes.root_mount_options(pid), nodes.root_mount_options(pid)
            started = time.monotonic()
            nodes.signal_container(name, "SIGTERM")
            status = process.wait(timeout=GRACE_SECONDS)
            took = time.monotonic() - started
        finally:
            if process.poll() is None:
                with contextlib.suppress(subprocess.CalledProcessError):
                    nodes.signal_container(name, "SIGKILL")
            output = process.communicate(timeout=30)[0].decode(errors="replace")[-2000:]
    print(f"[node stage] SIGTERM to exit: {took:.1f}s, status {status}")
    assert status == 0, f"exit status {status} after SIGTERM:\n{output}"
    assert took < GRACE_SECONDS / 2, f"took {took:.1f}s of a {GRACE_SECONDS}s grace period"
