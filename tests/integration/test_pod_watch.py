"""The operator reads pods from its watch and a pod's change wakes the Canaries selecting it
(issue 12 item 4, docs/scale.md "What changed" 4): with a 30 s tick a settled Canary rests 300 s,
yet a pod that joins its selector is signalled and counted within seconds, and one that leaves
is dropped as fast. A pod that matches another selector wakes nothing and is never counted.
Real operator and API server; the pods are the pod simulator's, registered as Pods."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from hotswap import resources
from hotswap.cluster import clusters
from hotswap.local import objects, registering, simulators
from hotswap.local.environments import Environment
from hotswap.store import publishing
from hotswap.training import resources as training_resources
from tests.integration.conftest import operator_environment
from tests.unit.store.conftest import write_tiny_model

MODEL = "podwatch"
TICK_SECONDS = 30.0  # a settled Canary rests 10 ticks: 300 s without a wake
WOKEN_WITHIN = 60.0  # far below the rest, far above a pass on a loaded machine


@pytest.fixture
def env(
    control_plane: clusters.Cluster, api_client: client.ApiClient, tmp_path: Path
) -> Iterator[Environment]:
    extra = {"HOTSWAP_OPERATOR_TICK_SECONDS": str(TICK_SECONDS)}
    with operator_environment(
        control_plane, api_client, tmp_path, model=MODEL, extra=extra
    ) as found:
        yield found


def counted(env: Environment) -> tuple[Any, Any]:
    status = env.objects.get(resources.CANARIES, MODEL).get("status") or {}
    return status.get("totalPods"), status.get("convergedPods")


def wait_counted(env: Environment, pods: int, what: str) -> None:
    objects.until(
        lambda: ((seen := counted(env)) == (pods, pods), seen),
        timeout=WOKEN_WITHIN, what=what, every=0.25,
    )  # fmt: skip


def register(env: Environment, pod: simulators.SimulatedPod, model: str) -> None:
    labels = registering.labels_for(model)
    registering.register_pod(env.kubelet, pod.name, ip=pod.host, ports={"admin": pod.port},
                             labels=labels)  # fmt: skip


def test_a_pod_joining_or_leaving_wakes_the_settled_canary_selecting_it(
    env: Environment,
) -> None:
    published = publishing.publish_version(env.paths.root, MODEL, write_tiny_model)
    body = training_resources.build_model_version(
        published, metrics={"accuracy": 0.9, "macroF1": 0.9}
    )
    env.objects.create(resources.MODEL_VERSIONS, body)
    version = body["metadata"]["name"]
    objects.wait_for_condition(env.objects, resources.MODEL_VERSIONS, version, "Verified")
    models = (MODEL, MODEL, MODEL, "other")
    planned = [
        simulators.SimulatedPod(f"{model}-{i}", model, simulators.host_of(i))
        for i, model in enumerate(models)
    ]
    with simulators.serving(env.paths.root, planned, token=env.token) as simulator:
        first, second, joining, stranger = simulator.pods
        register(env, first, MODEL)
        register(env, second, MODEL)
        labels = registering.labels_for(MODEL)
        canary = objects.canary_manifest(MODEL, model=MODEL, version=version, labels=labels)
        env.objects.create(resources.CANARIES, canary)
        wait_counted(env, 2, "the Canary Ready on its 2 pods")
        objects.wait_for_condition(env.objects, resources.CANARIES, MODEL, "Ready")

        register(env, stranger, "other")  # another selector's pod: wakes nothing, never counted
        register(env, joining, MODEL)
        wait_counted(env, 3, "the joining pod counted and converged before the 300 s rest")

        env.kubelet.remove(joining.name)
        wait_counted(env, 2, "the removed pod dropped before the 300 s rest")
