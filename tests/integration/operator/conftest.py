"""The operator's integration environment: the real control plane with the project's CRDs, a
namespace with the RBAC of manifests/rbac, a model volume with trained versions, three
inference processes registered as pods by the test kubelet, and the operator as a subprocess
running as the ServiceAccount identity that RBAC binds (nothing more)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from hotswap.cluster import applying, building, clusters, kubeconfigs, kubelets
from hotswap.store import files, layout, publishing
from hotswap.training import training
from tests.integration.operator import flows, given, traffic

ROOT = Path(__file__).resolve().parents[3]
MODEL, LABELS = flows.MODEL, flows.LABELS
PODS = 3
SERVICE_ACCOUNT = "hotswap-operator"


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def crds(control_plane: clusters.Cluster) -> list[Path]:
    return applying.apply_crds(control_plane, ROOT / "crds")


@pytest.fixture(scope="session")
def admin(control_plane: clusters.Cluster) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(
        config_file=str(control_plane.kubeconfig), persist_config=False
    )
    yield api
    api.close()


@pytest.fixture(scope="session")
def namespace(admin: client.ApiClient, crds: list[Path]) -> str:
    name = f"hotswap-{uuid.uuid4().hex[:6]}"
    client.CoreV1Api(admin).create_namespace({"metadata": {"name": name}})
    return name


@pytest.fixture(scope="session")
def cluster(admin: client.ApiClient, namespace: str) -> flows.Cluster:
    return flows.Cluster(admin, namespace)


def apply_rbac(admin: client.ApiClient, namespace: str) -> None:
    """manifests/rbac as kustomize would render it into `namespace`."""
    rbac = client.RbacAuthorizationV1Api(admin)
    core = client.CoreV1Api(admin)
    for name in ("serviceaccount.yaml", "role.yaml", "rolebinding.yaml"):
        body: dict[str, Any] = yaml.safe_load((ROOT / "manifests/rbac" / name).read_text())
        body["metadata"]["namespace"] = namespace
        for subject in body.get("subjects", []):
            subject["namespace"] = namespace
        kind = body["kind"]
        if kind == "ServiceAccount":
            core.create_namespaced_service_account(namespace, body)
        elif kind == "Role":
            rbac.create_namespaced_role(namespace, body)
        else:
            rbac.create_namespaced_role_binding(namespace, body)


@pytest.fixture(scope="session")
def operator_kubeconfig(
    control_plane: clusters.Cluster,
    admin: client.ApiClient,
    namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A client certificate for system:serviceaccount:<ns>:hotswap-operator, bound only by
    manifests/rbac (the API server authorizes it exactly as the ServiceAccount)."""
    apply_rbac(admin, namespace)
    user = f"system:serviceaccount:{namespace}:{SERVICE_ACCOUNT}"
    path = tmp_path_factory.mktemp("operator-identity") / "kubeconfig"
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]
    return kubeconfigs.create_for_user(control_plane, path, user=user, groups=groups)


@dataclass
class Volume:
    root: Path
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> ModelVersion
    unregistered: dict[str, dict[str, Any]] = field(default_factory=dict)  # created by tests

    def folder(self, label: str) -> Path:
        return self.root / self.versions[label]["spec"]["artifactPath"]


def publish_variant(
    root: Path,
    source: Path,
    *,
    metrics: dict[str, Any] | None = None,
    model_bytes: bytes | None = None,
) -> publishing.Published:
    """A new version made from `source`'s files, with metrics.json or the model file replaced."""

    def write(stage: Path) -> None:
        for path in source.iterdir():
            if path.name != "MANIFEST.json":
                shutil.copyfile(path, stage / path.name)
        if metrics is not None:
            files.write_json(stage / layout.METRICS, metrics)
        if model_bytes is not None:
            (stage / "model.joblib").write_bytes(model_bytes)

    return publishing.publish_version(root, MODEL, write, format="joblib", metrics={})


def resource_of(published: publishing.Published, accuracy: float) -> dict[str, Any]:
    from hotswap.training import resources

    return resources.build_model_version(
        published, metrics={"accuracy": accuracy, "macroF1": accuracy}
    )


@pytest.fixture(scope="session")
def volume(tmp_path_factory: pytest.TempPathFactory) -> Volume:
    """v1, v2, v3 trained; `worse` (accuracy far lower); `broken` (verifies, cannot load)."""
    root = tmp_path_factory.mktemp("models")
    found = Volume(root)
    for label, seed in (("v1", 1), ("v2", 2), ("v3", 3)):
        found.versions[label] = training.train(root, MODEL, seed=seed).manifest
    source = root / found.versions["v1"]["spec"]["artifactPath"]
    worse = publish_variant(root, source, metrics={"accuracy": 0.10, "macroF1": 0.10})
    found.versions["worse"] = resource_of(worse, 0.10)
    import pickle

    broken = publish_variant(root, source, model_bytes=pickle.dumps({"not": "a model"}))
    found.versions["broken"] = resource_of(broken, 0.9)
    for label in ("late", "tampered"):
        published = publish_variant(root, source, metrics={"accuracy": 0.9, "note": label})
        found.unregistered[label] = resource_of(published, 0.9)
    return found


@dataclass
class InferencePod:
    name: str
    ip: str
    port: int
    admin_port: int
    process: subprocess.Popen[bytes]

    def status(self) -> dict[str, Any]:
        return flows.admin_status(self.ip, self.admin_port)


@pytest.fixture(scope="session")
def pods(
    admin: client.ApiClient,
    namespace: str,
    volume: Volume,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[InferencePod]]:
    logs = tmp_path_factory.mktemp("pod-logs")
    kubelet = kubelets.Kubelet(client.CoreV1Api(admin), namespace=namespace)
    started = [start_pod(kubelet, index, volume.root, logs) for index in range(PODS)]
    yield started
    for pod in started:
        pod.process.send_signal(signal.SIGTERM)
    for pod in started:
        pod.process.wait(timeout=30)
    kubelet.close()


def start_pod(kubelet: kubelets.Kubelet, index: int, root: Path, logs: Path) -> InferencePod:
    ip = f"127.0.0.{10 + index}"
    port, admin_port, metrics_port = (free_port(ip) for _ in range(3))
    argv = [
        sys.executable,
        "-m",
        "hotswap_inference",
        f"--model-root={root}",
        f"--model={MODEL}",
        f"--host={ip}",
        f"--port={port}",
        f"--admin-port={admin_port}",
        f"--metrics-port={metrics_port}",
        "--poll-interval=1",
        "--no-query-log-stdout",
    ]
    with (logs / f"pod-{index}.log").open("wb") as log:
        env = os.environ | {"HOTSWAP_RELOAD_TOKEN": flows.TOKEN}
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    name = f"inference-{index}"
    flows.eventually(lambda: _listening(ip, admin_port), timeout=60, what=f"{name} admin port")
    kubelet.add(name, ip=ip, labels=LABELS, ports={"http": port, "admin": admin_port})
    annotation = {"metadata": {"annotations": {"hotswap.dev/admin-port": str(admin_port)}}}
    kubelet.api.patch_namespaced_pod(name, kubelet.namespace, annotation)
    return InferencePod(name, ip, port, admin_port, process)


def _listening(ip: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((ip, port)) == 0


class Operator:
    """The operator subprocess; `kill()` is SIGKILL, `start()` starts a fresh one."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [sys.executable, "-m", "hotswap_operator", "--verbose"]
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                argv, stdout=handle, stderr=subprocess.STDOUT, env=self.env
            )

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="session")
def operator(
    operator_kubeconfig: Path,
    namespace: str,
    volume: Volume,
    pods: list[InferencePod],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Operator]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "KUBECONFIG": str(operator_kubeconfig),
        "HOTSWAP_MODEL_ROOT": str(volume.root),
        "HOTSWAP_RELOAD_TOKEN": flows.TOKEN,
        "HOTSWAP_NAMESPACE": namespace,
        "HOTSWAP_OPERATOR_METRICS_HOST": "127.0.0.1",
        "HOTSWAP_OPERATOR_METRICS_PORT": str(free_port("127.0.0.1")),
        "HOTSWAP_OPERATOR_TICK_SECONDS": "0.5",
    }
    running = Operator(env, tmp_path_factory.mktemp("operator") / "operator.log")
    running.start()
    yield running
    running.stop()
    print(f"\noperator log: {running.log}")


@pytest.fixture(scope="session")
def registered(cluster: flows.Cluster, volume: Volume, operator: Operator) -> Volume:
    """Every ModelVersion created (broken digests aside) and verified by the operator."""
    for body in volume.versions.values():
        cluster.create("modelversions", body)
    for body in volume.versions.values():
        flows.wait_for_condition(cluster, "modelversions", body["metadata"]["name"], "Verified")
    return volume


def model_version_name(volume: Volume, label: str) -> str:
    return str(volume.versions[label]["metadata"]["name"])


@pytest.fixture(scope="session")
def binaries_present() -> bool:
    return building.locate().present


@pytest.fixture
def rollout(
    cluster: flows.Cluster, registered: Volume, pods: list[InferencePod]
) -> Iterator[given.Rollout]:
    """A Canary of the test model, with a bounded load loop running through the whole test."""
    found = given.Rollout(cluster, registered, pods)
    load = traffic.Traffic(registered.root, [(pod.ip, pod.port) for pod in pods]).start()
    yield found
    load.stop()
    cluster.delete("canaries", found.name)
    flows.eventually(
        lambda: found.name not in [c["metadata"]["name"] for c in given.list_canaries(cluster)],
        timeout=30,
        what=f"Canary {found.name} deleted (finalizer released by the operator)",
    )
    print(f"\nload loop: {load.answered} answers by version {load.versions}")
    load.check()


@pytest.fixture
def fresh(cluster: flows.Cluster, registered: Volume) -> str:
    """A version that never served (a rollout to it takes the steps): its label."""
    source = registered.folder("v1")
    label = f"fresh-{uuid.uuid4().hex[:6]}"
    published = publish_variant(registered.root, source, metrics={"accuracy": 0.9, "note": label})
    registered.versions[label] = resource_of(published, 0.9)
    cluster.create("modelversions", registered.versions[label])
    name = registered.versions[label]["metadata"]["name"]
    flows.wait_for_condition(cluster, "modelversions", name, "Verified")
    return label
