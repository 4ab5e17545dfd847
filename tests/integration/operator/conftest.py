"""The operator's integration environment: the real control plane with the project's CRDs, a
namespace with the RBAC of manifests/rbac, a model volume with trained versions, three
inference processes registered as pods by the test kubelet, and the operator as a subprocess
running as the ServiceAccount identity that RBAC binds (nothing more)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from hotswap import resources
from hotswap.cluster import applying, building, clusters, kubelets
from hotswap.local import authorizing, operators, registering, replicas, tallies, traffic
from hotswap.local.declarations import Declared
from hotswap.store import files, layout, publishing
from hotswap.training import training
from tests.integration.operator import flows, given

ROOT = Path(__file__).resolve().parents[3]
MODEL, LABELS = flows.MODEL, flows.LABELS
PODS = 3
Operator = operators.Operator  # test_crashes names it here


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
    return authorizing.create_namespace(admin, f"hotswap-{uuid.uuid4().hex[:6]}")


@pytest.fixture(scope="session")
def cluster(admin: client.ApiClient, namespace: str) -> flows.Cluster:
    return flows.Cluster(admin, namespace)


@pytest.fixture(scope="session")
def operator_kubeconfig(
    control_plane: clusters.Cluster,
    admin: client.ApiClient,
    namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A client certificate for system:serviceaccount:<ns>:hotswap-operator, bound only by
    manifests/rbac (the API server authorizes it exactly as the ServiceAccount)."""
    authorizing.apply_rbac(admin, namespace, folder=ROOT / "manifests" / "rbac")
    path = tmp_path_factory.mktemp("operator-identity") / "kubeconfig"
    return authorizing.create_operator_kubeconfig(control_plane, namespace, path)


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


@pytest.fixture(scope="session")
def pods(
    admin: client.ApiClient,
    namespace: str,
    volume: Volume,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[replicas.Replica]]:
    """Three replicas on 127.0.0.10-12, registered as pods by the test kubelet."""
    logs = tmp_path_factory.mktemp("pod-logs")
    kubelet = kubelets.Kubelet(client.CoreV1Api(admin), namespace=namespace)
    started = [
        replicas.spawn_replica(
            volume.root, MODEL, name=f"inference-{index}", token=flows.TOKEN, log_dir=logs,
            host=f"127.0.0.{10 + index}", poll_interval=1,
        )
        for index in range(PODS)
    ]  # fmt: skip
    try:
        for pod in started:
            replicas.wait_listening(pod)
            registering.register_replica(kubelet, pod, labels=LABELS)
        yield started
    finally:
        for pod in started:
            replicas.stop_replica(pod, timeout=30)
        kubelet.close()


@pytest.fixture(scope="session")
def operator(
    operator_kubeconfig: Path,
    namespace: str,
    volume: Volume,
    pods: list[replicas.Replica],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[operators.Operator]:
    env = operators.operator_env(
        operator_kubeconfig,
        namespace=namespace,
        model_root=volume.root,
        token=flows.TOKEN,
        metrics_port=replicas.free_port(),
    )
    running = operators.Operator(env, tmp_path_factory.mktemp("operator") / "operator.log")
    running.start()
    yield running
    running.stop()
    print(f"\noperator log: {running.log}")


@pytest.fixture(scope="session")
def registered(cluster: flows.Cluster, volume: Volume, operator: Operator) -> Volume:
    """Every ModelVersion created (broken digests aside) and verified by the operator."""
    for body in volume.versions.values():
        cluster.create(resources.MODEL_VERSIONS, body)
    for body in volume.versions.values():
        flows.wait_for_condition(
            cluster, resources.MODEL_VERSIONS, body["metadata"]["name"], "Verified"
        )
    return volume


def model_version_name(volume: Volume, label: str) -> str:
    return str(volume.versions[label]["metadata"]["name"])


@pytest.fixture(scope="session")
def binaries_present() -> bool:
    return building.locate().present


CLIENTS = 8  # concurrent clients of the rollout fixture's load loop
MIN_SPLIT_KEYS = 100  # request keys a settled routing needs before its split is judged


@pytest.fixture
def rollout(
    cluster: flows.Cluster, registered: Volume, pods: list[replicas.Replica]
) -> Iterator[given.Rollout]:
    """A Canary of the test model, with a bounded load loop running through the whole test:
    8 concurrent clients, round-robin over the pods, each answer checked against routing.json
    (its version, and its arm against the declared weight once the routing settled)."""
    found = given.Rollout(cluster, registered, pods)
    targets = tuple(pod.target for pod in pods)
    load = traffic.Load(targets, 100_000, 600.0, threads=CLIENTS, pause=0.05)
    declared = Declared(layout.ModelPaths(registered.root, MODEL))
    unready = {f"{host}:{port}" for host, port in targets if not serving(host, port)}
    with traffic.LiveTraffic(load, declared=declared) as live:
        found.live = live
        yield found
    delete_canary(cluster, found.name)
    seen = live.snapshot()
    check_load(seen, unready=unready)
    check_splits(seen)


def delete_canary(cluster: flows.Cluster, name: str) -> None:
    """Delete a test's Canary and wait until it is gone (the operator releases its finalizer),
    so no later test sees it."""
    cluster.delete(resources.CANARIES, name)
    flows.eventually(
        lambda: name not in [c["metadata"]["name"] for c in given.list_canaries(cluster)],
        timeout=30,
        what=f"Canary {name} deleted (finalizer released by the operator)",
    )


def serving(host: str, port: int) -> bool:
    """Whether the pod answers a prediction now (none does before the first routing)."""
    return flows.predict(host, port)[0] == 200


def check_load(seen: tallies.Tally, *, unready: Collection[str] = ()) -> None:
    """No failure, no undeclared version; 503s only from pods that served nothing yet when the
    load began, before their first answer (a Service would not have sent them traffic)."""
    not_ready = dict(seen.not_ready)
    print(
        f"\nload loop: {seen.answered} answers by version {dict(seen.by_version())}, "
        f"503 before ready {not_ready}, settled splits "
        f"{ {g: (s.weight, s.keys, round(s.canary_share, 3)) for g, s in seen.splits.items()} }"
    )
    assert seen.total > 0, "the load loop sent no request"
    failures = list(seen.failures.items())[:5]
    assert not seen.failures, f"expected 0 failed requests of {seen.total}: {failures}"
    undeclared = list(seen.undeclared.items())[:5]
    assert not seen.undeclared, f"expected 0 undeclared versions: {undeclared}"
    early = {where: n for where, n in not_ready.items() if where not in unready}
    assert not early, f"503s from pods that were serving when the load began: {early}"


def check_splits(seen: tallies.Tally) -> None:
    """Under each routing settled long enough, every key kept one arm and the keys' share on
    the canary is the declared weight (within the binomial tolerance of `Split.problem`)."""
    judged = {g: s for g, s in seen.splits.items() if s.keys >= MIN_SPLIT_KEYS}
    problems = {g: p for g, s in judged.items() if (p := s.problem()) is not None}
    assert not problems, f"answers off the declared split, by routing generation: {problems}"


@pytest.fixture
def fed_rollout(
    cluster: flows.Cluster, registered: Volume, pods: list[replicas.Replica]
) -> Iterator[given.Rollout]:
    """`rollout`, with a load loop that sends feedback from the intent data's true labels
    (reward 1 for a right answer, else 0) with each answer's signed feedback token."""
    found = given.Rollout(cluster, registered, pods)
    load = traffic.Load(
        tuple(pod.target for pod in pods),
        40_000,
        600.0,
        threads=2,
        pause=0.005,
        labelled=traffic.labelled_texts(),
    )
    declared = Declared(layout.ModelPaths(registered.root, MODEL))
    unready = {f"{host}:{port}" for host, port in load.targets if not serving(host, port)}
    with traffic.LiveTraffic(load, declared=declared) as live:
        yield found
    delete_canary(cluster, found.name)
    seen = live.snapshot()
    check_load(seen, unready=unready)
    assert sum(seen.rewards.values()) > 0, "the load loop credited no feedback"


def register_trained(cluster: flows.Cluster, volume: Volume, *, seed: int, noise: float) -> str:
    """A newly trained version (never served), registered and verified: its label."""
    label = f"trained-{uuid.uuid4().hex[:6]}"
    result = training.train(volume.root, MODEL, seed=seed, label_noise=noise)
    volume.versions[label] = result.manifest
    cluster.create(resources.MODEL_VERSIONS, result.manifest)
    flows.wait_for_condition(
        cluster, resources.MODEL_VERSIONS, result.manifest["metadata"]["name"], "Verified"
    )
    return label


@pytest.fixture
def noisy(cluster: flows.Cluster, registered: Volume) -> str:
    """A version trained on half-wrong labels (~50% accurate against ~98%): its label."""
    return register_trained(cluster, registered, seed=4, noise=0.5)


@pytest.fixture
def clean(cluster: flows.Cluster, registered: Volume) -> str:
    """A version trained on the true labels that never served: its label."""
    return register_trained(cluster, registered, seed=5, noise=0.0)


@pytest.fixture
def fresh(cluster: flows.Cluster, registered: Volume) -> str:
    """A version that never served (a rollout to it takes the steps): its label."""
    return register_fresh(cluster, registered)


def register_fresh(cluster: flows.Cluster, registered: Volume, *, padding: int = 0) -> str:
    """Publish, register and verify a version that never served (v1's model): its label.
    `padding` zero bytes after the model's pickle (which ends before them) make every load,
    which hashes the whole file with it open, last longer."""
    source = registered.folder("v1")
    label = f"fresh-{uuid.uuid4().hex[:6]}"
    model = (source / "model.joblib").read_bytes() + bytes(padding) if padding else None
    metrics = {"accuracy": 0.9, "note": label}
    published = publish_variant(registered.root, source, metrics=metrics, model_bytes=model)
    registered.versions[label] = resource_of(published, 0.9)
    cluster.create(resources.MODEL_VERSIONS, registered.versions[label])
    name = registered.versions[label]["metadata"]["name"]
    flows.wait_for_condition(cluster, resources.MODEL_VERSIONS, name, "Verified")
    return label
