"""Given-helpers for the operator's pure logic: specs, statuses and observations, one line each."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hotswap_operator import conditions, observations, specs, statuses

NOW = datetime(2026, 11, 28, 14, 30, 0, tzinfo=UTC)
OLD, NEW, OTHER = (
    "intent-20261128-100000-aaaaaaaa",
    "intent-20261128-110000-bbbbbbbb",
    ("intent-20261128-120000-cccccccc"),
)
STEPS = [
    specs.Step(name="ten", set_weight=10),
    specs.Step(name="wait", pause=specs.Pause(duration_seconds=30)),
    specs.Step(name="half", set_weight=50),
    specs.Step(name="human", pause=specs.Pause()),
    specs.Step(name="check", analysis=specs.AnalysisStep(min_requests=10)),
]


def spec(*, version: str = NEW, steps: bool = False, **fields: Any) -> specs.CanarySpec:
    strategy = specs.Strategy(type="Steps", steps=STEPS) if steps else specs.Strategy()
    base = specs.CanarySpec(
        model="intent",
        version=version,
        selector=specs.Selector(match_labels={"app": "inference"}),
        strategy=strategy,
    )
    return replace(base, **fields)


def status(**fields: Any) -> statuses.CanaryStatus:
    return replace(statuses.CanaryStatus(stable_version=OLD, observed_generation=1), **fields)


def rollout(kind: str = statuses.DEPLOY, version: str = NEW) -> statuses.Rollout:
    return statuses.Rollout(version=version, kind=kind, started_at=ago(60), from_version=OLD)


def stepping(step: int, weight: int, *, started: int = 0, **fields: Any) -> statuses.CanaryStatus:
    return status(
        canary_version=NEW,
        weight=weight,
        current_step=step,
        step_started_at=ago(started),
        rollout=rollout(),
        **fields,
    )


def pods(*ready: bool) -> list[statuses.PodState]:
    return [
        statuses.PodState(name=f"pod-{i}", ip=f"127.0.0.{i + 2}", ready=flag)
        for i, flag in enumerate(ready)
    ]


def observed(
    *,
    state: str = observations.VERIFIED,
    target: str = NEW,
    converged: bool = True,
    generation: int = 1,
    **fields: Any,
) -> observations.Observation:
    return observations.Observation(
        generation=generation,
        target=observations.Target(
            name=target,
            state=state,
            message=f"{target} is {state}",
            served_before=fields.pop("served_before", False),
        ),
        pods=fields.pop("pods", pods(converged, converged, converged)),
        routing_matches=fields.pop("routing_matches", converged),
        **fields,
    )


def ago(seconds: int) -> str:
    return conditions.stamp(NOW - timedelta(seconds=seconds))


def condition(found: statuses.CanaryStatus, kind: str) -> tuple[str, str]:
    seen = conditions.find(found.conditions, kind)
    return (seen.status, seen.reason) if seen else ("absent", "")
