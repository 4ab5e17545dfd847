"""next_decision, table-driven: given a spec, the last status and what was observed, the next
status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hotswap_operator import conditions, deciding, observations, specs, statuses
from hotswap_operator.statuses import CanaryStatus

from tests.unit.operator.builders import (
    NEW,
    NOW,
    OLD,
    OTHER,
    condition,
    observed,
    pods,
    rollout,
    spec,
    status,
    stepping,
)


@dataclass(frozen=True)
class Case:
    name: str
    spec: specs.CanarySpec
    status: CanaryStatus
    observed: observations.Observation
    expect: dict[str, Any]  # status field -> expected value
    conditions: dict[str, tuple[str, str]] = field(default_factory=dict)  # type -> status, reason


GATE = specs.OfflineGate(metric="accuracy", max_drop=0.01)
PASS = observations.GateResult(passed=True, metric="accuracy", message="ok", stable=0.9, canary=0.9)
FAIL = observations.GateResult(
    passed=False, metric="accuracy", message="drop", stable=0.9, canary=0.8
)
FAILURE = observations.PodFailure(pod="pod-1", version=NEW, reason="digest mismatch")

CASES = [
    Case(
        "first deploy switches the verified version in as stable",
        spec(),
        CanaryStatus(),
        observed(),
        {"stable_version": NEW, "canary_version": None, "weight": 0},
        {
            "Progressing": ("True", conditions.DEPLOYING),
            "Ready": ("False", conditions.ROLLOUT_IN_PROGRESS),
        },
    ),
    Case(
        "first deploy waits for a missing ModelVersion and says so",
        spec(),
        CanaryStatus(),
        observed(state=observations.MISSING),
        {"stable_version": None},
        {
            "Progressing": ("False", conditions.MODEL_VERSION_MISSING),
            "Ready": ("False", conditions.NO_STABLE_VERSION),
        },
    ),
    Case(
        "first deploy of an unverified version waits",
        spec(),
        CanaryStatus(),
        observed(state=observations.PENDING),
        {"stable_version": None},
        {"Progressing": ("False", conditions.MODEL_VERSION_NOT_VERIFIED)},
    ),
    Case(
        "steady and converged is Ready",
        spec(version=OLD),
        status(),
        observed(target=OLD),
        {"stable_version": OLD, "converged_pods": 3, "total_pods": 3},
        {"Ready": ("True", conditions.CONVERGED), "Degraded": ("False", conditions.HEALTHY)},
    ),
    Case(
        "steady with a pod behind is not Ready",
        spec(version=OLD),
        status(),
        observed(target=OLD, pods=pods(True, False, True), routing_matches=True),
        {"converged_pods": 2, "total_pods": 3},
        {"Ready": ("False", conditions.WAITING_FOR_PODS)},
    ),
    Case(
        "steady without pods is not Ready, naming the selector",
        spec(version=OLD),
        status(),
        observed(target=OLD, pods=[]),
        {"total_pods": 0},
        {"Ready": ("False", conditions.NO_READY_PODS)},
    ),
    Case(
        "Immediate switches stable at once, remembering where it came from",
        spec(),
        status(),
        observed(),
        {
            "stable_version": NEW,
            "rollout": rollout().__class__(NEW, "Deploy", "2026-11-28T14:30:00Z", OLD),
        },
        {"Progressing": ("True", conditions.DEPLOYING)},
    ),
    Case(
        "Immediate waits until every pod reports the new stable",
        spec(),
        status(stable_version=NEW, rollout=rollout()),
        observed(pods=pods(True, False, True), routing_matches=True),
        {"stable_version": NEW, "rollout": rollout()},
        {
            "Progressing": ("True", conditions.WAITING_FOR_PODS),
            "Ready": ("False", conditions.ROLLOUT_IN_PROGRESS),
        },
    ),
    Case(
        "Immediate completes once converged, recorded in history",
        spec(),
        status(stable_version=NEW, rollout=rollout()),
        observed(),
        {"rollout": None},
        {
            "Progressing": ("False", conditions.ROLLOUT_COMPLETE),
            "Ready": ("True", conditions.CONVERGED),
        },
    ),
    Case(
        "Steps starts with the canary loaded at weight 0",
        spec(steps=True),
        status(),
        observed(),
        {"stable_version": OLD, "canary_version": NEW, "weight": 0, "current_step": 0},
        {"Progressing": ("True", conditions.STEPPING)},
    ),
    Case(
        "a setWeight step sets the weight",
        spec(steps=True),
        stepping(0, 0),
        observed(),
        {"weight": 10, "current_step": 0},
        {"Progressing": ("True", conditions.STEPPING)},
    ),
    Case(
        "a setWeight step advances once converged at its weight",
        spec(steps=True),
        stepping(0, 10),
        observed(),
        {"weight": 10, "current_step": 1, "step_started_at": "2026-11-28T14:30:00Z"},
    ),
    Case(
        "nothing advances while a pod has not confirmed",
        spec(steps=True),
        stepping(0, 10),
        observed(pods=pods(True, False, True), routing_matches=True),
        {"weight": 10, "current_step": 0},
    ),
    Case(
        "nothing advances while routing.json is not as declared",
        spec(steps=True),
        stepping(0, 10),
        observed(routing_matches=False, pods=pods(True, True, True)),
        {"weight": 10, "current_step": 0},
    ),
    Case(
        "a timed pause holds before its end",
        spec(steps=True),
        stepping(1, 10, started=29),
        observed(),
        {"current_step": 1},
        {"Progressing": ("True", conditions.PAUSED)},
    ),
    Case(
        "a timed pause ends after durationSeconds",
        spec(steps=True),
        stepping(1, 10, started=30),
        observed(),
        {"current_step": 2},
    ),
    Case(
        "a timed pause ends early when promoted",
        spec(steps=True),
        stepping(1, 10, started=1),
        observed(promote="t1"),
        {"current_step": 2, "promote_handled": "t1"},
    ),
    Case(
        "an open pause holds without a promote",
        spec(steps=True),
        stepping(3, 50, started=3600),
        observed(),
        {"current_step": 3},
        {"Progressing": ("True", conditions.PAUSED)},
    ),
    Case(
        "an open pause holds when the promote was already handled",
        spec(steps=True),
        stepping(3, 50, promote_handled="t1"),
        observed(promote="t1"),
        {"current_step": 3},
    ),
    Case(
        "an open pause continues on a new promote",
        spec(steps=True),
        stepping(3, 50, promote_handled="t1"),
        observed(promote="t2"),
        {"current_step": 4, "promote_handled": "t2"},
    ),
    Case(
        "an analysis step holds without data (missing data is never a verdict)",
        spec(steps=True),
        stepping(4, 50),
        observed(),
        {"current_step": 4},
        {"Progressing": ("True", conditions.ANALYSING)},
    ),
    Case(
        "a promote by hand moves past an analysis step that holds",
        spec(steps=True),
        stepping(4, 50),
        observed(promote="p9"),
        {"current_step": 5, "promote_handled": "p9"},
    ),
    Case(
        "after the last step the canary becomes stable",
        spec(steps=True),
        stepping(5, 50),
        observed(),
        {"stable_version": NEW, "canary_version": None, "weight": 0, "current_step": None},
        {"Progressing": ("True", conditions.PROMOTING)},
    ),
    Case(
        "abort sends all traffic back to stable and stays Degraded",
        spec(steps=True),
        stepping(2, 50),
        observed(abort="a1"),
        {
            "stable_version": OLD,
            "canary_version": None,
            "weight": 0,
            "aborted_generation": 1,
            "abort_handled": "a1",
            "rollout": None,
        },
        {
            "Degraded": ("True", conditions.ABORTED_BY_USER),
            "Ready": ("False", conditions.ABORTED_BY_USER),
        },
    ),
    Case(
        "an abort without a rollout is only marked handled",
        spec(version=OLD),
        status(),
        observed(target=OLD, abort="a1"),
        {"stable_version": OLD, "abort_handled": "a1", "aborted_generation": None},
    ),
    Case(
        "an aborted generation holds on stable",
        spec(steps=True),
        status(aborted_generation=1),
        observed(),
        {"stable_version": OLD, "canary_version": None},
    ),
    Case(
        "a new generation after an abort starts again",
        spec(steps=True),
        status(aborted_generation=1),
        observed(generation=2),
        {"canary_version": NEW, "current_step": 0},
        {"Degraded": ("False", conditions.HEALTHY)},
    ),
    Case(
        "a pod that fails to load the canary aborts, naming it",
        spec(steps=True),
        stepping(2, 50),
        observed(pod_failure=FAILURE),
        {"stable_version": OLD, "canary_version": None, "aborted_generation": 1},
        {"Degraded": ("True", conditions.POD_LOAD_FAILED)},
    ),
    Case(
        "a pod that fails an Immediate switch brings back the previous stable",
        spec(),
        status(stable_version=NEW, rollout=rollout()),
        observed(pod_failure=FAILURE),
        {"stable_version": OLD, "rollout": None},
        {"Degraded": ("True", conditions.POD_LOAD_FAILED)},
    ),
    Case(
        "a version that served before is an instant rollback, even with steps",
        spec(steps=True),
        status(),
        observed(served_before=True),
        {"stable_version": NEW, "canary_version": None, "current_step": None},
        {"Progressing": ("True", conditions.ROLLING_BACK)},
    ),
    Case(
        "a rollback skips the offline gate",
        spec(offline_gate=GATE),
        status(),
        observed(served_before=True, gate=FAIL),
        {"stable_version": NEW},
    ),
    Case(
        "the offline gate refuses a worse candidate",
        spec(steps=True, offline_gate=GATE),
        status(),
        observed(gate=FAIL),
        {"stable_version": OLD, "canary_version": None, "aborted_generation": 1},
        {"Degraded": ("True", conditions.OFFLINE_GATE_FAILED)},
    ),
    Case(
        "the offline gate lets a good candidate through",
        spec(steps=True, offline_gate=GATE),
        status(),
        observed(gate=PASS),
        {"canary_version": NEW},
    ),
    Case(
        "a rejected ModelVersion degrades the Canary, stable keeps serving",
        spec(),
        status(),
        observed(state=observations.REJECTED),
        {"stable_version": OLD},
        {
            "Degraded": ("True", conditions.MODEL_VERSION_REJECTED),
            "Ready": ("False", conditions.MODEL_VERSION_REJECTED),
        },
    ),
    Case(
        "a missing ModelVersion is reported while stable serves",
        spec(),
        status(),
        observed(state=observations.MISSING),
        {"stable_version": OLD},
        {"Progressing": ("False", conditions.MODEL_VERSION_MISSING)},
    ),
    Case(
        "pointing back at stable mid-rollout drops the canary",
        spec(version=OLD, steps=True),
        stepping(2, 50),
        observed(target=OLD),
        {"stable_version": OLD, "canary_version": None, "rollout": None},
        {"Progressing": ("False", conditions.SPEC_REVERTED)},
    ),
    Case(
        "a new version mid-rollout supersedes the canary first",
        spec(version=OTHER, steps=True),
        stepping(2, 50),
        observed(target=OTHER),
        {"stable_version": OLD, "canary_version": None, "rollout": None},
        {"Progressing": ("True", conditions.SUPERSEDED)},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_next_decision(case: Case) -> None:
    decision = deciding.next_decision(case.spec, case.status, case.observed, NOW)
    for name, expected in case.expect.items():
        seen = getattr(decision.status, name)
        assert seen == expected, f"{case.name}: expected {name}={expected!r}, seen {seen!r}"
    for kind, expected_condition in case.conditions.items():
        seen_condition = condition(decision.status, kind)
        assert seen_condition == expected_condition, (
            f"{case.name}: expected {kind} {expected_condition}, seen {seen_condition}"
        )


def test_every_decision_records_the_generation_it_saw() -> None:
    decision = deciding.next_decision(spec(), status(), observed(generation=7), NOW)
    assert decision.status.observed_generation == 7
    assert {c.observed_generation for c in decision.status.conditions} == {7}


def test_an_abort_is_recorded_in_history_and_warned_about() -> None:
    decision = deciding.next_decision(spec(steps=True), stepping(2, 50), observed(abort="a"), NOW)
    entry = decision.status.history[0]
    assert (entry.version, entry.outcome, entry.reason) == (
        NEW,
        statuses.ABORTED,
        conditions.ABORTED_BY_USER,
    )
    warnings = [e for e in decision.events if e.type == "Warning"]
    assert [e.reason for e in warnings] == [conditions.ABORTED_BY_USER], f"events {decision.events}"


def test_history_keeps_the_newest_entries_up_to_the_limit() -> None:
    old = [
        statuses.HistoryEntry(OTHER, "Deploy", "Promoted", "R", "m", "t0", f"t{i}")
        for i in range(3)
    ]
    decision = deciding.next_decision(
        spec(history_limit=3),
        status(stable_version=NEW, rollout=rollout(), history=old),
        observed(),
        NOW,
    )
    seen = [e.version for e in decision.status.history]
    assert seen == [NEW, OTHER, OTHER], f"expected the newest first, limited to 3, seen {seen}"


def test_a_full_steps_rollout_reaches_stable_in_bounded_decisions() -> None:
    """Time passes while nothing changes; a promote comes at the open pause (step 3) and at
    the analysis step (4), which holds without traffic."""
    current, now = status(), NOW
    for _ in range(40):
        promote = {3: "p", 4: "q"}.get(current.current_step or 0)
        seen = deciding.next_decision(spec(steps=True), current, observed(promote=promote), now)
        if seen.status == current:
            now += timedelta(minutes=1)
        current = seen.status
        if current.stable_version == NEW and current.rollout is None:
            break
    assert (current.stable_version, current.canary_version) == (NEW, None), f"stuck at {current}"
    assert [e.outcome for e in current.history] == [statuses.PROMOTED]
