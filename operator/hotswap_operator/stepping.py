"""The steps of a Steps rollout: set a weight, pause (timed or until promoted), analyse.

A step advances only once every ready pod reports the routing declared so far (Argo's
VerifyWeight); after the last step the canary becomes stable.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hotswap_operator import conditions, reasons, situations
from hotswap_operator.decisions import Decision
from hotswap_operator.situations import Situation
from hotswap_operator.specs import STEPS, Step
from hotswap_operator.statuses import CanaryStatus, LastAnalysis


def run_step(s: Situation) -> Decision | None:
    if s.status.canary_version != s.target or not s.verdict.converged:
        return None
    steps = s.spec.strategy.steps if s.spec.strategy.type == STEPS else []
    index = s.status.current_step or 0
    if index >= len(steps):
        return promote(s)
    step = steps[index]
    if step.set_weight is not None:
        return set_weight(s, step, index, total=len(steps))
    if step.pause is not None:
        return pause(s, step, index, total=len(steps))
    return analyse(s, index)


def promote(s: Situation) -> Decision:
    status = replace(
        situations.cleared(s.status), stable_version=s.target, rollout=s.status.rollout
    )
    message = f"every step passed: {s.target} becomes stable"
    return situations.progressing(s, status, reasons.PROMOTING, message)


def set_weight(s: Situation, step: Step, index: int, *, total: int) -> Decision:
    weight = step.set_weight or 0
    if s.status.weight == weight:
        return advance(s, s.status, index)
    status = replace(s.status, weight=weight)
    message = f"step {index + 1}/{total} {step.name!r}: {s.target} answers {weight}%"
    return situations.progressing(s, status, reasons.STEPPING, message)


def pause(s: Situation, step: Step, index: int, *, total: int) -> Decision | None:
    token = s.promote_pending()
    if token is not None:
        return advance(s, replace(s.status, promote_handled=token), index)
    until = pause_end(s, step)
    if until is not None and s.now >= until:
        return advance(s, s.status, index)
    when = f"until {conditions.stamp(until)}" if until else "until promoted (hotswap promote)"
    message = f"step {index + 1}/{total} {step.name!r}: paused at {s.status.weight}% {when}"
    return situations.progressing(s, s.status, reasons.PAUSED, message)


def pause_end(s: Situation, step: Step) -> datetime | None:
    seconds = step.pause.duration_seconds if step.pause else None
    started = s.status.step_started_at
    if seconds is None or started is None:
        return None
    return conditions.parse_stamp(started) + timedelta(seconds=seconds)


def analyse(s: Situation, index: int) -> Decision:
    analysis = LastAnalysis(
        kind="Analysis",
        verdict="Skipped",
        message="no analysis provider is configured: the step passes",
        time=s.stamp,
    )
    return advance(s, replace(s.status, last_analysis=analysis), index)


def advance(s: Situation, status: CanaryStatus, index: int) -> Decision:
    return Decision(replace(status, current_step=index + 1, step_started_at=s.stamp))
