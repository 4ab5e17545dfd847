"""next_decision: from the spec, the last status and what was observed, the next status.

Pure: no kopf, no cluster, no files. Each rule returns a Decision or None (not mine); the first
that answers wins. The status it returns declares the routing (stable, canary, weight).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from hotswap_operator import (
    analysing,
    bandits,
    reasons,
    situations,
    starting,
    stepping,
    summarizing,
)
from hotswap_operator.decisions import Decision
from hotswap_operator.situations import Situation
from hotswap_operator.specs import CanarySpec
from hotswap_operator.statuses import ABORTED, INITIAL, PROMOTED, CanaryStatus, Rollout
from hotswap_operator.verdicts import MISSING, REJECTED, VERIFIED, Verdict

Rule = Callable[[Situation], Decision | None]


def next_decision(
    spec: CanarySpec, status: CanaryStatus, verdict: Verdict, now: datetime
) -> Decision:
    s = Situation(spec, status, verdict, now)
    s = replace(s, analysis=analysing.look(spec, status, verdict, s.stamp))
    for rule in RULES:
        decision = rule(s)
        if decision is not None:
            return summarizing.finish(s, decision)
    return summarizing.finish(s, Decision(status))


def hold_aborted(s: Situation) -> Decision | None:
    """An aborted rollout stays aborted until the spec changes; hand signals are consumed."""
    if s.status.aborted_generation != s.verdict.generation:
        return None
    return Decision(consume_signals(s, s.status))


def abort_by_user(s: Situation) -> Decision | None:
    token = s.abort_pending()
    if token is None:
        return None
    status = replace(s.status, abort_handled=token)
    if status.rollout is None:
        return Decision(status)
    return situations.abort(
        s, status, reasons.ABORTED_BY_USER, "aborted by the hotswap.dev/abort annotation"
    )


def abort_on_pod_failure(s: Situation) -> Decision | None:
    failure = s.verdict.pod_failure
    if failure is None:
        return None
    message = f"pod {failure.pod} could not load {failure.version}: {failure.reason}"
    if s.status.rollout is None:
        return situations.degraded(s, s.status, reasons.POD_LOAD_FAILED, message)
    return situations.abort(s, s.status, reasons.POD_LOAD_FAILED, message)


def first_deploy(s: Situation) -> Decision | None:
    if s.status.stable_version is not None or s.verdict.target.state != VERIFIED:
        return None
    rollout = Rollout(version=s.target, kind=INITIAL, started_at=s.stamp)
    status = replace(situations.cleared(s.status), stable_version=s.target, rollout=rollout)
    message = f"deploying {s.target} as the first stable version"
    return situations.progressing(s, status, reasons.DEPLOYING, message)


def settle(s: Situation) -> Decision | None:
    """spec.version is the stable: finish, cancel or keep what serves."""
    if s.target != s.status.stable_version:
        return None
    status = consume_signals(s, s.status)
    if status.canary_version is not None:
        status = situations.with_history(
            s,
            status,
            outcome=ABORTED,
            reason=reasons.SPEC_REVERTED,
            message=f"spec.version points at the stable {s.target} again",
        )
        message = f"canary dropped: spec.version points at the stable {s.target} again"
        return situations.progressing(
            s, situations.cleared(status), reasons.SPEC_REVERTED, message, active=False
        )
    if status.rollout is not None:
        return complete(s, status)
    return steady(s, status)


def complete(s: Situation, status: CanaryStatus) -> Decision:
    if not s.verdict.converged:
        return situations.wait_for_pods(s, status, f"report {s.target} as stable")
    message = f"{s.target} serves as stable on {len(s.verdict.pods)} ready pods"
    status = situations.with_history(
        s, status, outcome=PROMOTED, reason=reasons.ROLLOUT_COMPLETE, message=message
    )
    return situations.progressing(
        s, replace(status, rollout=None), reasons.ROLLOUT_COMPLETE, message, active=False
    )


def steady(s: Situation, status: CanaryStatus) -> Decision:
    kept = next((c for c in status.conditions if c.type == reasons.PROGRESSING), None)
    if kept is None or kept.status != "False":
        message = f"{s.target} serves as stable"
        return situations.progressing(s, status, reasons.ROLLOUT_COMPLETE, message, active=False)
    return Decision(situations.healthy(s, status))


def supersede(s: Situation) -> Decision | None:
    rollout = s.status.rollout
    if rollout is None or rollout.version == s.target:
        return None
    message = f"spec.version moved on to {s.target} before {rollout.version} finished"
    status = situations.with_history(
        s, s.status, outcome=ABORTED, reason=reasons.SUPERSEDED, message=message
    )
    return situations.progressing(s, situations.cleared(status), reasons.SUPERSEDED, message)


def await_target(s: Situation) -> Decision | None:
    target = s.verdict.target
    if target.state == VERIFIED:
        return None
    if target.state == REJECTED:
        return situations.degraded(s, s.status, reasons.MODEL_VERSION_REJECTED, target.message)
    reason = (
        reasons.MODEL_VERSION_MISSING
        if target.state == MISSING
        else reasons.MODEL_VERSION_NOT_VERIFIED
    )
    return situations.progressing(s, s.status, reason, target.message, active=False)


def consume_signals(s: Situation, status: CanaryStatus) -> CanaryStatus:
    """Promote and abort mean nothing without a rollout: mark them handled."""
    return replace(
        status,
        promote_handled=s.promote_pending() or status.promote_handled,
        abort_handled=s.abort_pending() or status.abort_handled,
    )


RULES: tuple[Rule, ...] = (
    hold_aborted,
    abort_by_user,
    abort_on_pod_failure,
    first_deploy,
    settle,
    supersede,
    await_target,
    analysing.fail_by_analysis,
    starting.start_rollout,
    bandits.run_bandit,
    stepping.run_step,
)
