"""Given / When / Then verbs over one Canary of the test model (Argo Rollouts' e2e idiom)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from hotswap import resources
from hotswap.local import objects, tallies
from hotswap.local.replicas import Replica
from hotswap.local.traffic import LiveTraffic
from tests.integration.operator import flows
from tests.integration.operator.flows import LABELS, MODEL

if TYPE_CHECKING:
    from tests.integration.operator.conftest import Volume


class Rollout:
    """One Canary of the test model, with Given/When/Then verbs."""

    def __init__(self, cluster: flows.Cluster, volume: Volume, pods: list[Replica]) -> None:
        self.cluster, self.volume, self.pods = cluster, volume, pods
        self.name = f"intent-{uuid.uuid4().hex[:6]}"
        self.live: LiveTraffic | None = None  # the fixture's load loop, when it runs one

    def mv(self, label: str) -> str:
        found = self.volume.versions.get(label) or self.volume.unregistered[label]
        return str(found["metadata"]["name"])

    def version_id(self, label: str) -> str:
        found = self.volume.versions.get(label) or self.volume.unregistered[label]
        return str(found["spec"]["version"])

    def create(self, label: str, **spec: Any) -> None:
        body = objects.canary_manifest(
            self.name, model=MODEL, version=self.mv(label), labels=LABELS, **spec
        )
        self.cluster.create(resources.CANARIES, body)

    def deploy(self, label: str, **spec: Any) -> None:
        self.cluster.patch(
            resources.CANARIES, self.name, {"spec": {"version": self.mv(label)} | spec}
        )

    def annotate(self, key: str) -> None:
        value = uuid.uuid4().hex
        self.cluster.patch(
            resources.CANARIES, self.name, {"metadata": {"annotations": {key: value}}}
        )

    def ready_on(self, label: str, *, timeout: float = 60) -> dict[str, Any]:
        body = flows.wait_for_condition(
            self.cluster, resources.CANARIES, self.name, "Ready", timeout=timeout
        )
        status = body["status"]
        assert status["stableVersion"] == self.mv(label), (
            f"expected stable {label}, status {status}"
        )
        return dict(status)

    def wait(self, what: str, predicate: Any, *, timeout: float = 60) -> dict[str, Any]:
        return flows.wait_for_status(self.cluster, self.name, predicate, what=what, timeout=timeout)

    def condition(self, kind: str) -> dict[str, Any]:
        return flows.condition(self.cluster.get(resources.CANARIES, self.name), kind)

    def wait_for_split(self, weight: int, *, keys: int, timeout: float = 30) -> tallies.Split:
        """The load loop's arms by request key under the settled routing at `weight`, once
        `keys` keys were answered there."""
        assert self.live is not None, "this Rollout runs no load loop"
        live = self.live

        def found() -> tuple[bool, Any]:
            splits = [s for s in live.snapshot().splits.values() if s.weight == weight]
            return bool(splits and splits[-1].keys >= keys), splits[-1:] or None

        what = f"{keys} request keys answered under the settled routing at weight {weight}"
        split: tallies.Split = flows.until(found, timeout=timeout, what=what)[0]
        return split

    def served(self) -> list[tuple[str | None, str | None, int]]:
        """(stable, canary, weight) each pod reports on its admin port."""
        found = []
        for pod in self.pods:
            status = pod.admin_status()
            canary = (status.get("canary") or {}).get("version")
            found.append(
                ((status.get("stable") or {}).get("version"), canary, status.get("weight"))
            )
        return found

    def expect_pods_serve(self, stable: str, canary: str | None = None, weight: int = 0) -> None:
        expected = (self.version_id(stable), self.version_id(canary) if canary else None, weight)
        seen = self.served()
        assert seen == [expected] * len(self.pods), f"expected every pod at {expected}, saw {seen}"

    def expect_answers_from(self, label: str) -> None:
        for pod in self.pods:
            code, version, _ = flows.predict(pod.host, pod.port)
            assert (code, version) == (200, self.version_id(label)), f"{pod.name}: {code} {version}"


def paused_in(status: dict[str, Any]) -> bool:
    found = [c for c in status.get("conditions") or [] if c.get("type") == "Progressing"]
    return bool(found) and found[0].get("reason") == "Paused"


def list_canaries(cluster: flows.Cluster) -> list[dict[str, Any]]:
    return cluster.list_objects(resources.CANARIES)
