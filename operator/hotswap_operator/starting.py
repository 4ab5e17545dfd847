"""Starting a rollout towards a verified spec.version: rollback, gate, Immediate or Steps."""

from __future__ import annotations

from dataclasses import replace

from hotswap_operator import reasons, situations
from hotswap_operator.decisions import Decision
from hotswap_operator.situations import Situation
from hotswap_operator.specs import BANDIT, STEPS
from hotswap_operator.statuses import (
    DEPLOY,
    REFUSED,
    ROLLBACK,
    CanaryStatus,
    LastAnalysis,
    Rollout,
)
from hotswap_operator.verdicts import GateResult


def start_rollout(s: Situation) -> Decision | None:
    if s.status.rollout is not None:
        return None
    if s.verdict.target.served_before:
        return roll_back(s)
    status = s.status
    if s.spec.offline_gate is not None:
        gate = s.verdict.gate
        if gate is None:
            message = "evaluating the offline gate"
            return situations.progressing(s, status, reasons.DEPLOYING, message, active="Unknown")
        status = replace(status, last_analysis=gate_analysis(s, gate))
        if not gate.passed:
            return refuse(s, status, gate)
    if s.spec.strategy.type in (STEPS, BANDIT):
        return start_canary(s, status)
    return switch_stable(s, status, kind=DEPLOY, reason=reasons.DEPLOYING)


def roll_back(s: Situation) -> Decision:
    return switch_stable(s, s.status, kind=ROLLBACK, reason=reasons.ROLLING_BACK)


def switch_stable(s: Situation, status: CanaryStatus, *, kind: str, reason: str) -> Decision:
    """Immediate: all traffic to spec.version at once (also an instant rollback)."""
    rollout = Rollout(
        version=s.target, kind=kind, started_at=s.stamp, from_version=status.stable_version
    )
    status = replace(situations.cleared(status), stable_version=s.target, rollout=rollout)
    verb = "rolling back" if kind == ROLLBACK else "switching"
    message = f"{verb} all traffic from {rollout.from_version} to {s.target}"
    return situations.progressing(s, status, reason, message)


def start_canary(s: Situation, status: CanaryStatus) -> Decision:
    """Steps: the canary loaded at weight 0, step 0 next; Bandit: at its initial weight."""
    rollout = Rollout(
        version=s.target, kind=DEPLOY, started_at=s.stamp, from_version=status.stable_version
    )
    bandit = s.spec.strategy.type == BANDIT
    status = replace(
        situations.cleared(status),
        canary_version=s.target,
        weight=s.spec.strategy.bandit.initial_weight if bandit else 0,
        current_step=None if bandit else 0,
        step_started_at=s.stamp,
        rollout=rollout,
    )
    message = f"canary {s.target} loaded beside {status.stable_version} at weight {status.weight}"
    return situations.progressing(s, status, reasons.STEPPING, message)


def refuse(s: Situation, status: CanaryStatus, gate: GateResult) -> Decision:
    message = f"offline gate refused {s.target}: {gate.message}"
    status = situations.with_history(
        s, status, outcome=REFUSED, reason=reasons.OFFLINE_GATE_FAILED, message=message
    )
    status = replace(status, aborted_generation=s.verdict.generation)
    return situations.degraded(s, status, reasons.OFFLINE_GATE_FAILED, message)


def gate_analysis(s: Situation, gate: GateResult) -> LastAnalysis:
    return LastAnalysis(
        kind="OfflineGate",
        verdict="Pass" if gate.passed else "Fail",
        message=gate.message,
        time=s.stamp,
        metric=gate.metric,
        stable=gate.stable,
        canary=gate.canary,
        max_drop=gate.max_drop,
    )
