"""Rollouts end to end: the operator (as its RBAC identity) against the real API server, three
inference processes registered as pods, trained versions on a model volume."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest

from hotswap import resources
from hotswap.local import watching
from tests.integration.operator import flows, given

PAUSE_SECONDS = 2
PAUSE_SLACK_SECONDS = 3.0  # the operator's tick (0.5 s) and one reconcile pass, generously
SPLIT_KEYS = 300  # request keys answered at the open 60% pause before its split is judged
STEPS_WITH_PAUSES = {
    "type": "Steps",
    "steps": [
        {"name": "twenty", "setWeight": 20},
        {"name": "short-wait", "pause": {"durationSeconds": PAUSE_SECONDS}},
        {"name": "sixty", "setWeight": 60},
        {"name": "human", "pause": {}},
    ],
}


def test_immediate_deploy_then_next_version(rollout: given.Rollout) -> None:
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
    flows.eventually(  # written in the background, after the Canary's status
        lambda: (
            rollout.cluster.get(resources.MODEL_VERSIONS, rollout.mv("v2"))["status"].get("serving")
            == "Stable"
        ),
        timeout=10,
        what="ModelVersion v2 serving Stable",
    )
    flows.eventually(  # events are posted in the background, after the status
        lambda: (
            {"Deploying", "RolloutComplete"}
            <= {reason for _, reason, _ in rollout.cluster.events_for(rollout.name)}
        ),
        timeout=10,
        what="the Deploying and RolloutComplete events",
    )


class StatusLog(watching.Watcher):
    """Every status the operator writes on one Canary, in order (a watch, so none is missed)."""

    def __init__(self, rollout: given.Rollout) -> None:
        super().__init__(rollout.cluster, rollout.name, say=lambda _: None)
        self.statuses: list[dict[str, Any]] = []

    def look(self, status: dict[str, Any]) -> None:
        self.statuses.append(status)

    def step_starts(self, canary: str) -> dict[int, datetime]:
        """When each step of the rollout to `canary` began, as status recorded it."""
        found: dict[int, datetime] = {}
        for status in self.statuses:
            step, started = status.get("currentStep"), status.get("stepStartedAt")
            if status.get("canaryVersion") == canary and step is not None and started:
                found.setdefault(step, datetime.fromisoformat(started.replace("Z", "+00:00")))
        return found


def test_steps_with_a_timed_pause_then_manual_promote(rollout: given.Rollout, fresh: str) -> None:
    rollout.create("v1")
    rollout.ready_on("v1")

    with StatusLog(rollout) as log:
        rollout.deploy(fresh, strategy=copy.deepcopy(STEPS_WITH_PAUSES))
        rollout.wait("canary at 20%", lambda s: s.get("canaryVersion") and s.get("weight") == 20)
        paused = rollout.wait(
            "the open pause at 60% after the timed one passed",
            lambda s: (
                s.get("currentStep") == 3 and s.get("weight") == 60 and s.get("convergedPods") == 3
            ),
        )
    assert (paused["canaryVersion"], paused["weight"]) == (rollout.mv(fresh), 60), paused
    expect_timed_pause_held(log, rollout.mv(fresh), seconds=PAUSE_SECONDS)
    rollout.expect_pods_serve("v1", fresh, 60)
    split = rollout.wait_for_split(60, keys=SPLIT_KEYS)
    assert split.problem() is None, f"at the open pause: {split.problem()}"
    print(f"\nat 60%: canary answered {split.canary_share:.1%} of {split.keys} request keys")

    rollout.annotate(resources.PROMOTE_ANNOTATION)
    rollout.ready_on(fresh)
    rollout.expect_pods_serve(fresh)


def expect_timed_pause_held(log: StatusLog, canary: str, *, seconds: float) -> None:
    """The pause step (index 1) began once the 20% step converged and the next step (index 2,
    "sixty") began no sooner than `seconds` later, and not much later (a tick, a pass)."""
    starts = log.step_starts(canary)
    assert {1, 2} <= set(starts), f"expected the pause and the step after it, saw {starts}"
    held = (starts[2] - starts[1]).total_seconds()
    assert seconds <= held <= seconds + PAUSE_SLACK_SECONDS, (
        f"expected the timed pause to hold {seconds}s (at most {PAUSE_SLACK_SECONDS}s more), "
        f"it held {held:.2f}s"
    )
    during = {s.get("weight") for s in log.statuses if s.get("currentStep") == 1}
    assert during == {20}, f"expected the weight to stay 20 during the pause, saw {during}"


def test_abort_sends_traffic_back_to_stable_and_stays(rollout: given.Rollout, fresh: str) -> None:
    rollout.create("v1")
    rollout.ready_on("v1")
    rollout.deploy(fresh, strategy=copy.deepcopy(STEPS_WITH_PAUSES))
    rollout.wait("the open pause", lambda s: s.get("currentStep") == 3 and given.paused_in(s))

    rollout.annotate(resources.ABORT_ANNOTATION)
    body = flows.wait_for_condition(
        rollout.cluster, resources.CANARIES, rollout.name, "Degraded", reason="AbortedByUser"
    )
    status = body["status"]
    assert (status["stableVersion"], status.get("canaryVersion")) == (rollout.mv("v1"), None)
    rollout.wait("every pod back on v1 alone", lambda s: s.get("convergedPods") == 3)
    rollout.expect_pods_serve("v1")
    rollout.expect_answers_from("v1")
    assert status["history"][0]["outcome"] == "Aborted", status["history"]


def test_pointing_back_at_a_version_that_served_is_an_instant_rollback(
    rollout: given.Rollout,
) -> None:
    rollout.create("v1")
    rollout.ready_on("v1")
    rollout.deploy("v2")
    rollout.ready_on("v2")

    rollout.deploy("v1", strategy={"type": "Steps", "steps": [{"name": "wait", "pause": {}}]})
    status = rollout.ready_on("v1")
    assert status["history"][0]["kind"] == "Rollback", status["history"][0]
    rollout.expect_pods_serve("v1")


def test_offline_gate_refuses_a_worse_version(rollout: given.Rollout) -> None:
    rollout.create("v1", offlineGate={"metric": "accuracy", "maxDrop": 0.05})
    rollout.ready_on("v1")

    rollout.deploy("worse")
    body = flows.wait_for_condition(
        rollout.cluster, resources.CANARIES, rollout.name, "Degraded", reason="OfflineGateFailed"
    )
    analysis = body["status"]["lastAnalysis"]
    assert (analysis["verdict"], analysis["canary"]) == ("Fail", 0.1), analysis
    rollout.expect_pods_serve("v1")


def test_a_digest_mismatch_is_refused(rollout: given.Rollout) -> None:
    tampered = copy.deepcopy(rollout.volume.unregistered["tampered"])
    tampered["spec"]["digest"] = "sha256:" + "0" * 64
    rollout.cluster.create(resources.MODEL_VERSIONS, tampered)
    verified = flows.wait_for_condition(
        rollout.cluster,
        resources.MODEL_VERSIONS,
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
        rollout.cluster, resources.CANARIES, rollout.name, "Degraded", reason="ModelVersionRejected"
    )
    assert "DigestMismatch" in flows.condition(degraded, "Degraded")["message"]
    rollout.expect_pods_serve("v1")


def test_a_pod_that_cannot_load_degrades_and_old_version_keeps_serving(
    rollout: given.Rollout,
) -> None:
    rollout.create("v1")
    rollout.ready_on("v1")

    rollout.deploy("broken")
    body = flows.wait_for_condition(
        rollout.cluster, resources.CANARIES, rollout.name, "Degraded", reason="PodLoadFailed"
    )
    message = flows.condition(body, "Degraded")["message"]
    assert "inference-" in message and rollout.version_id("broken") in message, message
    assert body["status"]["stableVersion"] == rollout.mv("v1"), body["status"]
    rollout.wait("every pod back on v1", lambda s: s.get("convergedPods") == 3)
    rollout.expect_pods_serve("v1")
    rollout.expect_answers_from("v1")


def test_a_missing_model_version_is_reported_and_recovers(rollout: given.Rollout) -> None:
    rollout.create("late")
    body = flows.wait_for_condition(
        rollout.cluster,
        resources.CANARIES,
        rollout.name,
        "Progressing",
        status="False",
        reason="ModelVersionMissing",
    )
    message = flows.condition(body, "Progressing")["message"]
    assert rollout.mv("late") in message and "does not exist" in message, message

    rollout.cluster.create(resources.MODEL_VERSIONS, rollout.volume.unregistered["late"])
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
    rollout: given.Rollout, kubeconfig_env: None
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


def test_cli_names_what_is_missing(rollout: given.Rollout, kubeconfig_env: None) -> None:
    from hotswap.cli import CommandError

    namespace = rollout.cluster.namespace
    with pytest.raises(CommandError, match=r"Canary nothing-here in namespace .* not found"):
        hotswap("promote", "nothing-here", "-n", namespace)
    rollout.create("v1")
    with pytest.raises(CommandError, match=r"ModelVersion intent-no-such .* not found"):
        hotswap("deploy", rollout.name, "intent-no-such", "-n", namespace)
