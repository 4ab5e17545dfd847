"""The operator and three pods with no shared volume: versions, registry and routing in a real
S3-compatible server (versitygw), every pod and the operator with a cache of their own.

One rollout under live traffic: deploy, weighted steps, promote, roll back; a corrupted object
refused while the previous version keeps serving; the store stopped mid-rollout (pods serve on,
the rollout waits) and started again (the rollout converges). 0 failed requests throughout.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from hotswap import resources
from hotswap.cluster import applying, clusters, kubelets
from hotswap.local import (
    authorizing,
    objects,
    objectstores,
    operators,
    registering,
    replicas,
    traffic,
)
from hotswap.store import buckets, layout, remotes, versions
from hotswap.training import training

ROOT = Path(__file__).resolve().parents[2]
MODEL = "intent"
PODS = 3
TOKEN = "object-store-reload-token"


@dataclass
class Fleet:
    objects: objects.Namespace
    pods: list[replicas.Replica]
    operator: operators.Operator
    server: objectstores.ObjectStoreServer
    bucket: buckets.Bucket
    versions: dict[str, dict[str, Any]]  # label -> ModelVersion body
    labels: dict[str, str]


@pytest.fixture(scope="module")
def fleet(
    control_plane: clusters.Cluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    work = tmp_path_factory.mktemp("object-store")
    server = objectstores.start(work / "s3")
    saved = {k: os.environ.get(k) for k in server.environ}
    os.environ.update(server.environ)  # the pods and the operator inherit the AWS settings
    admin = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(control_plane.kubeconfig), persist_config=False
    )
    namespace = f"s3-{uuid.uuid4().hex[:6]}"
    store = f"s3://models/{namespace}"
    bucket = server.bucket("models", prefix=namespace)
    labels = registering.labels_for(MODEL)
    started: list[replicas.Replica] = []
    kubelet: kubelets.Kubelet | None = None
    operator: operators.Operator | None = None
    try:
        applying.apply_crds(control_plane, ROOT / "crds")
        authorizing.create_namespace(admin, namespace)
        authorizing.apply_rbac(admin, namespace, folder=ROOT / "manifests" / "rbac")
        identity = authorizing.create_operator_kubeconfig(
            control_plane, namespace, work / "operator-kubeconfig"
        )
        trained = publish_versions(work / "build", bucket)
        env = operators.operator_env(
            identity, namespace=namespace, model_root=work / "operator-cache", token=TOKEN,
            metrics_port=replicas.free_port(), store=store,
        )  # fmt: skip
        operator = operators.Operator(env, work / "operator.log").start()
        kubelet = kubelets.Kubelet(client.CoreV1Api(admin), namespace=namespace)
        for index in range(PODS):
            pod = replicas.spawn_replica(
                work / f"cache-{index}", MODEL, name=f"inference-{index}", token=TOKEN,
                log_dir=work, host=f"127.0.0.{40 + index}", poll_interval=1, store=store,
            )  # fmt: skip
            started.append(pod)
        for pod in started:
            replicas.wait_listening(pod)
            registering.register_replica(kubelet, pod, labels=labels)
        found = objects.Namespace(admin, namespace)
        for label, body in trained.items():
            if label != "bad":  # created by the test that corrupts it first
                found.create(resources.MODEL_VERSIONS, body)
        yield Fleet(found, started, operator, server, bucket, trained, labels)
    finally:
        for pod in started:
            replicas.stop_replica(pod, timeout=30)
        if kubelet is not None:
            kubelet.close()
        if operator is not None:
            operator.stop()
            print(f"\noperator log: {work / 'operator.log'}")
        server.stop()
        admin.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def publish_versions(build: Path, bucket: buckets.Bucket) -> dict[str, dict[str, Any]]:
    """v1-v3 and `bad` trained on a build machine's disk, uploaded to the bucket (manifest
    last); the ModelVersions name their s3:// artifact paths, as `hotswap train --store` does."""
    found = {}
    for label, seed in (("v1", 1), ("v2", 2), ("v3", 3), ("bad", 4)):
        result = training.train(build, MODEL, seed=seed)
        published = result.published
        record = versions.get_version(layout.ModelPaths(build, MODEL), published.version)
        uri = remotes.publish_folder(bucket, published.path, record)
        manifest = result.manifest
        manifest["spec"]["artifactPath"] = uri
        found[label] = manifest
    return found


def name_of(fleet: Fleet, label: str) -> str:
    return str(fleet.versions[label]["metadata"]["name"])


def version_of(fleet: Fleet, label: str) -> str:
    return str(fleet.versions[label]["spec"]["version"])


def stable_is(fleet: Fleet, canary: str, label: str, *, timeout: float = 90) -> dict[str, Any]:
    return objects.wait_for_status(
        fleet.objects,
        canary,
        lambda s: (
            s.get("stableVersion") == name_of(fleet, label)
            and s.get("convergedPods") == s.get("totalPods") == PODS
            and not s.get("canaryVersion")
        ),
        what=f"{label} stable on all {PODS} pods",
        timeout=timeout,
    )


def served_versions(fleet: Fleet) -> set[str | None]:
    return {(p.admin_status().get("stable") or {}).get("version") for p in fleet.pods}


def corrupt(fleet: Fleet, label: str) -> None:
    """Cut the end off a version's model object in the bucket (its manifest is intact)."""
    key = buckets.version_key(fleet.bucket.uri, MODEL, version_of(fleet, label), "model.joblib")
    blob = fleet.bucket.read(key)
    assert blob is not None
    fleet.bucket.write(key, blob.data[:-64])


def test_the_operator_verifies_by_download_and_refuses_a_corrupted_object(fleet: Fleet) -> None:
    for label in ("v1", "v2", "v3"):
        objects.wait_for_condition(
            fleet.objects, resources.MODEL_VERSIONS, name_of(fleet, label), "Verified", timeout=90
        )
    registered = {r.version for r in remotes.list_versions(fleet.bucket, MODEL)}
    assert registered == {version_of(fleet, label) for label in ("v1", "v2", "v3", "bad")}

    corrupt(fleet, "bad")
    fleet.objects.create(resources.MODEL_VERSIONS, fleet.versions["bad"])
    body = objects.wait_for_condition(
        fleet.objects,
        resources.MODEL_VERSIONS,
        name_of(fleet, "bad"),
        "Verified",
        status="False",
        reason="ArtifactCorrupt",
        timeout=90,
    )
    message = objects.condition(body, "Verified")["message"]
    assert "model.joblib is corrupt or truncated" in message, message


def test_a_rollout_from_the_bucket_under_live_traffic(fleet: Fleet) -> None:
    name = f"{MODEL}-{uuid.uuid4().hex[:6]}"
    load = traffic.Load(tuple(p.target for p in fleet.pods), 100_000, 600.0, threads=6, pause=0.05)
    with traffic.LiveTraffic(load) as live:
        body = objects.canary_manifest(
            name, model=MODEL, version=name_of(fleet, "v1"), labels=fleet.labels
        )
        fleet.objects.create(resources.CANARIES, body)
        stable_is(fleet, name, "v1")
        assert served_versions(fleet) == {version_of(fleet, "v1")}

        steps = {
            "type": "Steps",
            "steps": [{"name": "half", "setWeight": 50}, {"name": "hold", "pause": {}}],
        }
        fleet.objects.patch(
            resources.CANARIES,
            name,
            {"spec": {"version": name_of(fleet, "v2"), "strategy": steps}},
        )
        objects.wait_for_status(
            fleet.objects,
            name,
            lambda s: s.get("weight") == 50 and s.get("convergedPods") == PODS,
            what="the canary v2 at 50% on every pod",
            timeout=90,
        )
        promote = {resources.PROMOTE_ANNOTATION: uuid.uuid4().hex}
        fleet.objects.patch(resources.CANARIES, name, {"metadata": {"annotations": promote}})
        stable_is(fleet, name, "v2")
        assert served_versions(fleet) == {version_of(fleet, "v2")}

        # v3 verified intact, then corrupted in the bucket: every pod's download refuses it,
        # the operator reports it, and v2 keeps serving.
        corrupt(fleet, "v3")
        fleet.objects.patch(
            resources.CANARIES, name, {"spec": {"version": name_of(fleet, "v3"), "strategy": None}}
        )
        objects.wait_for_condition(
            fleet.objects, resources.CANARIES, name, "Degraded", reason="PodLoadFailed", timeout=90
        )
        assert served_versions(fleet) == {version_of(fleet, "v2")}

        # The store stopped mid-rollout (back to v1, which every pod evicted from its cache):
        # pods serve v2 on and the rollout waits; the store back, the rollout converges.
        fleet.server.stop()
        fleet.objects.patch(resources.CANARIES, name, {"spec": {"version": name_of(fleet, "v1")}})
        before = live.snapshot().answered
        objects.eventually(
            lambda: live.snapshot().answered > before + 50, timeout=30, what="answers while down"
        )
        assert served_versions(fleet) == {version_of(fleet, "v2")}, "the rollout waited"
        fleet.server = fleet.server.restart()
        stable_is(fleet, name, "v1", timeout=120)
        assert served_versions(fleet) == {version_of(fleet, "v1")}
    seen = live.snapshot()
    fleet.objects.delete(resources.CANARIES, name)
    assert seen.answered > 100, seen
    worst = seen.failures.most_common(5)
    assert seen.failed == 0, f"{seen.failed} failed of {seen.answered}: {worst}"
