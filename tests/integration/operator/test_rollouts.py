"""Rollouts end to end: the operator (as its RBAC identity) against the real API server, three
inference processes registered as pods, trained versions on a model volume."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.operator import flows
from tests.integration.operator.conftest import (
    LABELS,
    MODEL,
    InferencePod,
    Volume,
    publish_variant,
    resource_of,
)

STEPS_WITH_PAUSES = {
    "type": "Steps",
    "steps": [
        {"name": "twenty", "setWeight": 20},
        {"name": "short-wait", "pause": {"durationSeconds": 2}},
        {"name": "sixty", "setWeight": 60},
        {"name": "human", "pause": {}},
    ],
}


class Rollout:
    """One Canary of the test model, with Given/When/Then verbs."""

    def __init__(self, cluster: flows.Cluster, volume: Volume, pods: list[InferencePod]) -> None:
        self.cluster, self.volume, self.pods = cluster, volume, pods
        self.name = f"intent-{uuid.uuid4().hex[:6]}"

    def mv(self, label: str) -> str:
        found = self.volume.versions.get(label) or self.volume.unregistered[label]
        return str(found["metadata"]["name"])

    def version_id(self, label: str) -> str:
        found = self.volume.versions.get(label) or self.volume.unregistered[label]
        return str(found["spec"]["version"])

    def create(self, label: str, **spec: Any) -> None:
        body = {
            "apiVersion": "hotswap.dev/v1alpha1",
            "kind": "Canary",
            "metadata": {"name": self.name},
            "spec": {"model": MODEL, "version": self.mv(label), "selector": {"matchLabels": LABELS}}
            | spec,
        }
        self.cluster.create("canaries", body)

    def deploy(self, label: str, **spec: Any) -> None:
        self.cluster.patch("canaries", self.name, {"spec": {"version": self.mv(label)} | spec})

    def annotate(self, key: str) -> None:
        value = uuid.uuid4().hex
        self.cluster.patch("canaries", self.name, {"metadata": {"annotations": {key: value}}})

    def ready_on(self, label: str, *, timeout: float = 60) -> dict[str, Any]:
        body = flows.wait_for_condition(
            self.cluster, "canaries", self.name, "Ready", timeout=timeout
        )
        status = body["status"]
        assert status["stableVersion"] == self.mv(label), (
            f"expected stable {label}, status {status}"
        )
        return dict(status)

    def wait(self, what: str, predicate: Any, *, timeout: float = 60) -> dict[str, Any]:
        return flows.wait_for_status(self.cluster, self.name, predicate, what=what, timeout=timeout)

    def condition(self, kind: str) -> dict[str, Any]:
        return flows.condition(self.cluster.get("canaries", self.name), kind)

    def served(self) -> list[tuple[str | None, str | None, int]]:
        """(stable, canary, weight) each pod reports on its admin port."""
        found = []
        for pod in self.pods:
            status = pod.status()
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
            code, version, _ = flows.predict(pod.ip, pod.port)
            assert (code, version) == (200, self.version_id(label)), f"{pod.name}: {code} {version}"


@pytest.fixture
def rollout(
    cluster: flows.Cluster, registered: Volume, pods: list[InferencePod]
) -> Iterator[Rollout]:
    found = Rollout(cluster, registered, pods)
    yield found
    cluster.delete("canaries", found.name)
    flows.eventually(
        lambda: found.name not in [c["metadata"]["name"] for c in _canaries(cluster)],
        timeout=30,
        what=f"Canary {found.name} deleted (finalizer released by the operator)",
    )


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


def paused_in(status: dict[str, Any]) -> bool:
    found = [c for c in status.get("conditions") or [] if c.get("type") == "Progressing"]
    return bool(found) and found[0].get("reason") == "Paused"


def _canaries(cluster: flows.Cluster) -> list[dict[str, Any]]:
    found = cluster.custom.list_namespaced_custom_object(
        "hotswap.dev", "v1alpha1", cluster.namespace, "canaries"
    )
    return list(found["items"])


def test_immediate_deploy_then_next_version(rollout: Rollout) -> None:
    rollout.create("v1")
    rollout.ready_on("v1")
    rollout.expect_pods_serve("v1")
    rollout.expect_answers_from("v1")

    rollout.deploy("v2")
    status = rollout.ready_on("v2")
    rollout.expect_pods_serve("v2")
    rollout.expect_answers_from("v2")
    assert (status["convergedPods"], status["totalPods"]) == (3, 3), status
    history = [(h["version"], h["outcome"]) for h in status["history"]]
    assert history == [(rollout.mv("v2"), "Promoted"), (rollout.mv("v1"), "Promoted")], history
    serving = rollout.cluster.get("modelversions", rollout.mv("v2"))["status"]["serving"]
    assert serving == "Stable", f"expected ModelVersion v2 serving Stable, saw {serving}"
    reasons = {reason for _, reason, _ in rollout.cluster.events_for(rollout.name)}
    assert {"Deploying", "RolloutComplete"} <= reasons, f"events seen: {reasons}"


def test_steps_with_a_timed_pause_then_manual_promote(rollout: Rollout, fresh: str) -> None:
    rollout.create("v1")
    rollout.ready_on("v1")

    rollout.deploy(fresh, strategy=copy.deepcopy(STEPS_WITH_PAUSES))
    rollout.wait("canary at 20%", lambda s: s.get("canaryVersion") and s.get("weight") == 20)
    paused = rollout.wait(
        "the open pause at 60% after the timed one passed",
        lambda s: (
            s.get("currentStep") == 3 and s.get("weight") == 60 and s.get("convergedPods") == 3
        ),
    )
    assert (paused["canaryVersion"], paused["weight"]) == (rollout.mv(fresh), 60), paused
    rollout.expect_pods_serve("v1", fresh, 60)

    rollout.annotate("hotswap.dev/promote")
    rollout.ready_on(fresh)
    rollout.expect_pods_serve(fresh)


def test_abort_sends_traffic_back_to_stable_and_stays(rollout: Rollout, fresh: str) -> None:
    rollout.create("v1")
    rollout.ready_on("v1")
    rollout.deploy(fresh, strategy=copy.deepcopy(STEPS_WITH_PAUSES))
    rollout.wait("the open pause", lambda s: s.get("currentStep") == 3 and paused_in(s))

    rollout.annotate("hotswap.dev/abort")
    body = flows.wait_for_condition(
        rollout.cluster, "canaries", rollout.name, "Degraded", reason="AbortedByUser"
    )
    status = body["status"]
    assert (status["stableVersion"], status.get("canaryVersion")) == (rollout.mv("v1"), None)
    rollout.wait("every pod back on v1 alone", lambda s: s.get("convergedPods") == 3)
    rollout.expect_pods_serve("v1")
    rollout.expect_answers_from("v1")
    assert status["history"][0]["outcome"] == "Aborted", status["history"]


def test_pointing_back_at_a_version_that_served_is_an_instant_rollback(rollout: Rollout) -> None:
    rollout.create("v1")
    rollout.ready_on("v1")
    rollout.deploy("v2")
    rollout.ready_on("v2")

    rollout.deploy("v1", strategy={"type": "Steps", "steps": [{"name": "wait", "pause": {}}]})
    status = rollout.ready_on("v1")
    assert status["history"][0]["kind"] == "Rollback", status["history"][0]
    rollout.expect_pods_serve("v1")


def test_offline_gate_refuses_a_worse_version(rollout: Rollout) -> None:
    rollout.create("v1", offlineGate={"metric": "accuracy", "maxDrop": 0.05})
    rollout.ready_on("v1")

    rollout.deploy("worse")
    body = flows.wait_for_condition(
        rollout.cluster, "canaries", rollout.name, "Degraded", reason="OfflineGateFailed"
    )
    analysis = body["status"]["lastAnalysis"]
    assert (analysis["verdict"], analysis["canary"]) == ("Fail", 0.1), analysis
    rollout.expect_pods_serve("v1")


def test_a_digest_mismatch_is_refused(rollout: Rollout) -> None:
    tampered = copy.deepcopy(rollout.volume.unregistered["tampered"])
    tampered["spec"]["digest"] = "sha256:" + "0" * 64
    rollout.cluster.create("modelversions", tampered)
    verified = flows.wait_for_condition(
        rollout.cluster,
        "modelversions",
        rollout.mv("tampered"),
        "Verified",
        status="False",
        reason="DigestMismatch",
    )
    assert "digest mismatch" in flows.condition(verified, "Verified")["message"]

    rollout.create("v1")
    rollout.ready_on("v1")
    rollout.deploy("tampered")
    degraded = flows.wait_for_condition(
        rollout.cluster, "canaries", rollout.name, "Degraded", reason="ModelVersionRejected"
    )
    assert "DigestMismatch" in flows.condition(degraded, "Degraded")["message"]
    rollout.expect_pods_serve("v1")


def test_a_pod_that_cannot_load_degrades_and_old_version_keeps_serving(rollout: Rollout) -> None:
    rollout.create("v1")
    rollout.ready_on("v1")

    rollout.deploy("broken")
    body = flows.wait_for_condition(
        rollout.cluster, "canaries", rollout.name, "Degraded", reason="PodLoadFailed"
    )
    message = flows.condition(body, "Degraded")["message"]
    assert "inference-" in message and rollout.version_id("broken") in message, message
    assert body["status"]["stableVersion"] == rollout.mv("v1"), body["status"]
    rollout.wait("every pod back on v1", lambda s: s.get("convergedPods") == 3)
    rollout.expect_pods_serve("v1")
    rollout.expect_answers_from("v1")


def test_a_missing_model_version_is_reported_and_recovers(rollout: Rollout) -> None:
    rollout.create("late")
    body = flows.wait_for_condition(
        rollout.cluster,
        "canaries",
        rollout.name,
        "Progressing",
        status="False",
        reason="ModelVersionMissing",
    )
    message = flows.condition(body, "Progressing")["message"]
    assert rollout.mv("late") in message and "does not exist" in message, message

    rollout.cluster.create("modelversions", rollout.volume.unregistered["late"])
    rollout.ready_on("late")
    rollout.expect_pods_serve("late")


def hotswap(*argv: str) -> str:
    """Run a `hotswap` rollout command in-process; its stdout."""
    import argparse
    import contextlib
    import io

    from hotswap.cli import rollouts

    parser = argparse.ArgumentParser(prog="hotswap")
    rollouts.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        args.func(args)
    return out.getvalue()


@pytest.fixture
def kubeconfig_env(control_plane: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(control_plane.kubeconfig))


def test_cli_deploys_by_version_id_rolls_back_and_reports(
    rollout: Rollout, kubeconfig_env: None
) -> None:
    namespace = rollout.cluster.namespace
    rollout.create("v1")
    rollout.ready_on("v1")

    hotswap("deploy", rollout.name, rollout.version_id("v2"), "-n", namespace)
    rollout.ready_on("v2")
    hotswap("rollback", rollout.name, "-n", namespace)
    rollout.ready_on("v1")
    shown = hotswap("status", rollout.name, "-n", namespace)
    assert f"stable={rollout.mv('v1')}" in shown and "Ready=True" in shown, shown


def test_cli_names_what_is_missing(rollout: Rollout, kubeconfig_env: None) -> None:
    from hotswap.cli import CommandError

    namespace = rollout.cluster.namespace
    with pytest.raises(CommandError, match=r"Canary nothing-here in namespace .* not found"):
        hotswap("promote", "nothing-here", "-n", namespace)
    rollout.create("v1")
    with pytest.raises(CommandError, match=r"ModelVersion intent-no-such .* not found"):
        hotswap("deploy", rollout.name, "intent-no-such", "-n", namespace)
