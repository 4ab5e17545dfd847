"""The operator as a process for the e2e tier, so Prometheus can scrape its metrics port.

It needs a cluster: a local control plane (`hotswap.cluster`: etcd and kube-apiserver on
loopback, the project's CRDs applied, built once from Go modules and cached) and the admin
kubeconfig. It watches one namespace and serves metrics on a free port of 127.0.0.1; the
process itself is `hotswap.local.operators.Operator`, as the demo and the integration tier run it.
`given_canary` registers replicas as pods and gives the operator a Canary of their model, so it
drives the rollout and its Canary gauges have series.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config

from hotswap import resources as api
from hotswap.cluster import building, kubelets, starting, stopping
from hotswap.local import objects, operators, registering, replicas
from hotswap.store import names, versions
from hotswap.store.layout import ModelPaths
from hotswap.store.publishing import Published
from hotswap.training import resources

Operator = operators.Operator
NAMESPACE = "default"
HOLD = {"name": "hold", "pause": {}}  # a pause step that waits until promoted


@contextlib.contextmanager
def running(workdir: Path, *, model_root: Path, token: str) -> Iterator[operators.Operator]:
    """A control plane in `workdir/cluster` and the operator on it (as the admin, sending
    `token` to the replicas it reloads); both stopped at the end."""
    if not building.locate().present:
        print("\nbuilding kube-apiserver and etcd from Go modules (cold: ~10 min on 2 cores)")
    state = workdir / "cluster"
    cluster = starting.up(state)
    try:
        env = operators.operator_env(
            cluster.kubeconfig,
            namespace=NAMESPACE,
            model_root=model_root,
            token=token,
            metrics_port=replicas.free_port(),
        )
        operator = operators.Operator(env, workdir / "operator.log", verbose=False).start()
        try:
            yield operator
        finally:
            operator.stop()
    finally:
        stopping.down(state)


@dataclass
class Canary:
    """The Canary of the volume's model, named after it, which the operator reconciles: rollouts
    go through its spec and annotations (as the admin), so the operator's gauges have series."""

    objects: objects.Namespace
    paths: ModelPaths
    pods: int  # the replicas registered as pods, all of which must report the routing

    @property
    def name(self) -> str:
        return self.paths.model

    def create(self, version: str) -> dict[str, Any]:
        """Created at `version` (Immediate); its status once Ready on it."""
        selector = {"matchLabels": registering.labels_for(self.name)}
        spec = {"model": self.name, "version": self.register(version), "selector": selector}
        body = {"apiVersion": api.API_VERSION, "kind": api.CANARY}
        self.objects.create(api.CANARIES, body | {"metadata": {"name": self.name}, "spec": spec})
        return self.wait_ready(version)

    def deploy(self, version: str, *, weight: int) -> dict[str, Any]:
        """Steps to `version`: `weight` percent, then a pause until promoted; the status there."""
        steps = [{"name": "canary", "setWeight": weight}, HOLD]
        spec = {"version": self.register(version), "strategy": {"type": "Steps", "steps": steps}}
        self.objects.patch(api.CANARIES, self.name, {"spec": spec})
        return objects.wait_for_status(
            self.objects,
            self.name,
            lambda s: (
                (s.get("weight"), s.get("currentStep"), s.get("convergedPods"))
                == (weight, 1, self.pods)
            ),
            what=f"{version} at {weight}% paused on {self.pods} pods",
        )

    def promote(self, version: str) -> dict[str, Any]:
        """`hotswap promote`: the promote annotation; the status once Ready on `version`."""
        note = {"metadata": {"annotations": {api.PROMOTE_ANNOTATION: uuid.uuid4().hex}}}
        self.objects.patch(api.CANARIES, self.name, note)
        return self.wait_ready(version)

    def register(self, version: str) -> str:
        """The ModelVersion of a version on the volume, created and verified; its name."""
        record = versions.get_version(self.paths, version)
        where = self.paths.version(version)
        published = Published(
            self.name, version, record.digest, where, self.paths.relative(version), record.format
        )
        body = resources.build_model_version(published, metrics=record.metrics)
        name = str(body["metadata"]["name"])
        self.objects.create(api.MODEL_VERSIONS, body)
        objects.wait_for_condition(self.objects, api.MODEL_VERSIONS, name, "Verified")
        return name

    def wait_ready(self, version: str) -> dict[str, Any]:
        name = names.resource_name(self.name, version)

        def ready_on(status: dict[str, Any]) -> bool:
            ready = objects.condition({"status": status}, "Ready").get("status") == "True"
            return ready and status.get("stableVersion") == name and not status.get("canaryVersion")

        return objects.wait_for_status(self.objects, self.name, ready_on, what=f"Ready on {name}")


@contextlib.contextmanager
def given_canary(
    operator: operators.Operator, pods: list[replicas.Replica], paths: ModelPaths, stable: str
) -> Iterator[Canary]:
    """`pods` registered as Ready pods (the test kubelet) and a Canary at `stable` the operator
    has made Ready; the pods are deleted at the end."""
    admin = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=operator.env["KUBECONFIG"], persist_config=False
    )
    kubelet = kubelets.Kubelet(client.CoreV1Api(admin), namespace=NAMESPACE)
    try:
        for pod in pods:
            registering.register_replica(kubelet, pod, labels=registering.labels_for(paths.model))
        canary = Canary(objects.Namespace(admin, NAMESPACE), paths, len(pods))
        canary.create(stable)
        yield canary
    finally:
        kubelet.close()
        admin.close()
