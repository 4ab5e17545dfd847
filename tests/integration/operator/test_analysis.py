"""Automated analysis on the real API server with three inference processes under live load
that sends feedback from the true labels: a worse canary is rolled back on its own, a better
one promoted on its own, too little data holds then follows onInconclusive, and the window
survives an operator killed mid-analysis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hotswap import resources
from hotswap.local import objects
from tests.integration.operator.conftest import Operator
from tests.integration.operator.given import Rollout

CHECKED_STEPS = {
    "type": "Steps",
    "steps": [
        {"name": "half", "setWeight": 50},
        {"name": "check", "analysis": {}},
    ],
}


def degraded_by(status: dict[str, Any], reason: str) -> bool:
    return objects.has_condition(status, "Degraded", reason)


def progressing_by(status: dict[str, Any], reason: str) -> bool:
    return objects.has_condition(status, "Progressing", reason)


def test_a_worse_canary_is_rolled_back_on_its_own(fed_rollout: Rollout, noisy: str) -> None:
    fed_rollout.create("v1")
    fed_rollout.ready_on("v1")
    fed_rollout.deploy(noisy, strategy=CHECKED_STEPS, analysis={})
    status = fed_rollout.wait(
        "rolled back by the analysis", lambda s: degraded_by(s, "AnalysisFailed"), timeout=120
    )
    assert (status["stableVersion"], status.get("canaryVersion")) == (fed_rollout.mv("v1"), None)
    last = status["lastAnalysis"]
    assert last["verdict"] == "Fail" and last["metric"] == "reward", f"lastAnalysis {last}"
    assert last["canary"] < last["stable"], f"the canary's reward must be the lower: {last}"
    metrics = {m["name"]: m for m in status["analysis"]["metrics"]}
    assert metrics["reward"]["canarySamples"] > 0 and metrics["reward"]["stableSamples"] > 0
    objects.eventually(  # events are posted in the background, after the status
        lambda: any(
            r == "AnalysisFailed" and "reward" in m
            for _, r, m in fed_rollout.cluster.events_for(fed_rollout.name)
        ),
        timeout=10,
        what="an AnalysisFailed event naming the reward",
    )
    fed_rollout.wait("every pod back on v1 only", lambda s: s.get("convergedPods") == 3)
    fed_rollout.expect_pods_serve("v1")


def test_a_better_canary_is_promoted_on_its_own(
    fed_rollout: Rollout, noisy: str, clean: str
) -> None:
    fed_rollout.create(noisy)
    fed_rollout.ready_on(noisy)
    fed_rollout.deploy(clean, strategy=CHECKED_STEPS, analysis={})
    status = fed_rollout.ready_on(clean, timeout=180)
    assert status["history"][0]["outcome"] == "Promoted", status["history"][0]
    assert status["lastAnalysis"]["verdict"] == "Pass", status["lastAnalysis"]
    states = {m["name"]: m["state"] for m in status["analysis"]["metrics"]}
    assert states["reward"] == "Pass" and states["errorRate"] == "Pass", states
    fed_rollout.expect_pods_serve(clean)


def test_too_little_data_holds_then_follows_on_inconclusive(
    fed_rollout: Rollout, fresh: str
) -> None:
    fed_rollout.create("v1")
    fed_rollout.ready_on("v1")
    steps = {
        "type": "Steps",
        "steps": [
            {"name": "half", "setWeight": 50},
            {"name": "check", "analysis": {"minRequests": 1_000_000, "maxDurationSeconds": 8}},
        ],
    }
    fed_rollout.deploy(fresh, strategy=steps, analysis={"onInconclusive": "Rollback"})
    held = fed_rollout.wait(
        "holding at the analysis step", lambda s: progressing_by(s, "Analysing")
    )
    assert held["canaryVersion"] == fed_rollout.mv(fresh) and held["analysis"]["verdict"] == (
        "Inconclusive"
    ), held.get("analysis")
    status = fed_rollout.wait(
        "rolled back when time ran out", lambda s: degraded_by(s, "AnalysisInconclusive")
    )
    assert status["stableVersion"] == fed_rollout.mv("v1") and not status.get("canaryVersion")


@pytest.fixture
def restarting(operator: Operator) -> Iterator[Operator]:
    yield operator
    if operator.process is None or operator.process.poll() is not None:
        operator.start()


def test_the_operator_killed_mid_analysis_resumes_the_same_window(
    fed_rollout: Rollout, fresh: str, restarting: Operator
) -> None:
    fed_rollout.create("v1")
    fed_rollout.ready_on("v1")
    steps = {
        "type": "Steps",
        "steps": [{"name": "half", "setWeight": 50}, {"name": "check", "analysis": {}}],
    }
    fed_rollout.deploy(
        fresh, strategy=steps, analysis={"minSamples": 1_000_000, "intervalSeconds": 1}
    )

    def counting(status: dict[str, Any]) -> bool:
        window = status.get("analysis") or {}
        return window.get("totals", {}).get("canary", {}).get("requests", 0) > 50

    before = fed_rollout.wait("canary requests counted", counting)["analysis"]
    restarting.kill()
    restarting.start()

    def moved_on(status: dict[str, Any]) -> bool:
        window = status.get("analysis") or {}
        return counting(status) and window.get("updatedAt") != before["updatedAt"]

    after = fed_rollout.wait("the window brought up to date again", moved_on)["analysis"]
    assert after["startedAt"] == before["startedAt"], f"reopened: {before} -> {after}"
    seen_before = before["totals"]["canary"]["requests"]
    seen_after = after["totals"]["canary"]["requests"]
    assert seen_after >= seen_before, f"counts lost: {seen_before} -> {seen_after}"
    fed_rollout.annotate(resources.ABORT_ANNOTATION)
