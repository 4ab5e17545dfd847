"""The steps of a Steps rollout: set a weight, pause (timed or until promoted), analyse.

A step advances only once every ready pod reports the routing declared so far (Argo's
VerifyWeight); after the last step the canary becomes stable.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hotswap_operator import analysing, conditions, reasons, situations
from hotswap_operator.decisions import Decision
from hotswap_operator.situations import Situation
from hotswap_operator.specs import PROMOTE, ROLLBACK, STEPS, Step
from hotswap_operator.statuses import PASS, AnalysisStatus, CanaryStatus


def run_step(s: Situation) -> Decision | None:
    if s.status.canary_version != s.target:
        return None
    if not s.verdict.converged:
        return situations.wait_for_pods(s, s.status, "report the declared routing")
    steps = s.spec.strategy.steps if s.spec.strategy.type == STEPS else []
    index = s.status.current_step or 0
    if index >= len(steps):
        return promote(s)
    step = steps[index]
    if step.set_weight is not None:
        return set_weight(s, step, index, total=len(steps))
    if step.pause is not None:
        return pause(s, step, index, total=len(steps))
    return analyse(s, step, index, total=len(steps))


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
    until = pause_end(s, step.pause.duration_seconds if step.pause else None)
    if until is not None and s.now >= until:
        return advance(s, s.status, index)
    when = f"until {conditions.stamp(until)}" if until else "until promoted (hotswap promote)"
    message = f"step {index + 1}/{total} {step.name!r}: paused at {s.status.weight}% {when}"
    return hold(s, index, reasons.PAUSED, message)


def hold(s: Situation, index: int, reason: str, message: str) -> Decision:
    """Stay on this step, unless promoted by hand (the hotswap.dev/promote annotation)."""
    token = s.promote_pending()
    if token is not None:
        return advance(s, replace(s.status, promote_handled=token), index)
    return situations.progressing(s, s.status, reason, message)


def pause_end(s: Situation, seconds: int | None) -> datetime | None:
    started = s.status.step_started_at
    if seconds is None or started is None:
        return None
    return conditions.parse_stamp(started) + timedelta(seconds=seconds)


def analyse(s: Situation, step: Step, index: int, *, total: int) -> Decision | None:
    """Pass advances; Fail was acted on already (`analysing.fail_by_analysis`); Inconclusive
    holds until the step's time runs out, then follows spec.analysis.onInconclusive."""
    window = s.analysis
    where = f"step {index + 1}/{total} {step.name!r}"
    if window is None:
        return hold(s, index, reasons.ANALYSING, f"{where}: waiting for the analysis window")
    if window.verdict == PASS:
        status = replace(s.status, last_analysis=analysing.last_analysis(s, window, None))
        return advance(s, status, index)
    override = step.analysis.max_duration_seconds if step.analysis else None
    until = pause_end(s, override or s.spec.analysed.max_duration_seconds)
    if until is None or s.now < until:
        message = f"{where}: analysing at {s.status.weight}% ({window.verdict}; status.analysis)"
        return hold(s, index, reasons.ANALYSING, message)
    return run_out(s, window, index, where)


def run_out(s: Situation, window: AnalysisStatus, index: int, where: str) -> Decision | None:
    """The step's time is up and the analysis is still inconclusive: onInconclusive."""
    choice = s.spec.analysed.on_inconclusive
    message = f"{where}: analysis still inconclusive after its maximum duration ({choice})"
    status = replace(s.status, last_analysis=analysing.last_analysis(s, window, None))
    if choice == PROMOTE:
        return advance(s, status, index)
    if choice == ROLLBACK:
        return situations.abort(s, status, reasons.ANALYSIS_INCONCLUSIVE, message)
    held = hold(s, index, reasons.ANALYSIS_INCONCLUSIVE, f"{message}: promote or abort by hand")
    return replace(held, status=replace(held.status, last_analysis=status.last_analysis))


def advance(s: Situation, status: CanaryStatus, index: int) -> Decision:
    return Decision(replace(status, current_step=index + 1, step_started_at=s.stamp))
