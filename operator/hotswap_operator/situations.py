"""One reconcile's inputs bundled, with the small helpers every rule uses to build a Decision."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from hotswap_operator import conditions, reasons
from hotswap_operator.decisions import Decision
from hotswap_operator.specs import CanarySpec
from hotswap_operator.statuses import (
    ABORTED,
    INITIAL,
    AnalysisStatus,
    CanaryStatus,
    HistoryEntry,
    PodState,
    Rollout,
)
from hotswap_operator.verdicts import Verdict


@dataclass(frozen=True)
class Situation:
    spec: CanarySpec
    status: CanaryStatus
    verdict: Verdict
    now: datetime
    analysis: AnalysisStatus | None = None  # the live window, judged on this look

    @property
    def stamp(self) -> str:
        return conditions.stamp(self.now)

    @property
    def target(self) -> str:
        return self.spec.version

    def promote_pending(self) -> str | None:
        value = self.verdict.promote
        return value if value and value != self.status.promote_handled else None

    def abort_pending(self) -> str | None:
        value = self.verdict.abort
        return value if value and value != self.status.abort_handled else None


def with_condition(
    s: Situation,
    status: CanaryStatus,
    *,
    kind: str,
    value: bool | str,
    reason: str,
    message: str,
) -> CanaryStatus:
    updated = conditions.set_condition(
        status.conditions,
        kind,
        value,
        reason=reason,
        message=message,
        now=s.now,
        generation=s.verdict.generation,
    )
    return replace(status, conditions=updated)


def progressing(
    s: Situation, status: CanaryStatus, reason: str, message: str, *, active: bool | str = True
) -> Decision:
    """Progressing set as given, Degraded cleared: a rollout that moves is not degraded."""
    status = with_condition(
        s, status, kind=reasons.PROGRESSING, value=active, reason=reason, message=message
    )
    return Decision(healthy(s, status))


def healthy(s: Situation, status: CanaryStatus) -> CanaryStatus:
    return with_condition(
        s, status, kind=reasons.DEGRADED, value=False, reason=reasons.HEALTHY, message="no failure"
    )


def degraded(s: Situation, status: CanaryStatus, reason: str, message: str) -> Decision:
    for kind in (reasons.PROGRESSING, reasons.DEGRADED):
        value = kind == reasons.DEGRADED
        status = with_condition(s, status, kind=kind, value=value, reason=reason, message=message)
    return Decision(status)


def cleared(status: CanaryStatus) -> CanaryStatus:
    """No canary, no step, no rollout: traffic all on stable."""
    return replace(
        status,
        canary_version=None,
        weight=0,
        current_step=None,
        step_started_at=None,
        rollout=None,
    )


def with_history(
    s: Situation, status: CanaryStatus, *, outcome: str, reason: str, message: str
) -> CanaryStatus:
    """Record the rollout in progress (or the target, when none started) as finished."""
    rollout = status.rollout or Rollout(
        version=s.target, kind="Deploy", started_at=s.stamp, from_version=status.stable_version
    )
    entry = HistoryEntry(
        version=rollout.version,
        kind=rollout.kind,
        outcome=outcome,
        reason=reason,
        message=message,
        started_at=rollout.started_at,
        finished_at=s.stamp,
        from_version=rollout.from_version,
    )
    return replace(status, history=[entry, *status.history][: s.spec.history_limit])


def abort(s: Situation, status: CanaryStatus, reason: str, message: str) -> Decision:
    """All traffic back to the stable the rollout started from; Degraded until spec changes."""
    rollout = status.rollout
    revert = status.stable_version
    if rollout is not None and rollout.kind != INITIAL and rollout.from_version:
        revert = rollout.from_version
    status = with_history(s, status, outcome=ABORTED, reason=reason, message=message)
    status = replace(
        cleared(status), stable_version=revert, aborted_generation=s.verdict.generation
    )
    return degraded(s, status, reason, f"{message}; traffic stays on {revert} until spec changes")


def wait_for_pods(s: Situation, status: CanaryStatus, what: str) -> Decision:
    """Hold: nothing advances until at least one ready pod confirms, and every one does."""
    if not s.verdict.pods:
        labels = s.spec.selector.match_labels
        message = f"no ready pod matches spec.selector {labels}: waiting for one to {what}"
        return progressing(s, status, reasons.NO_READY_PODS, message)
    behind = [pod for pod in s.verdict.pods if not pod.ready]
    done = len(s.verdict.pods) - len(behind)
    message = f"{done}/{len(s.verdict.pods)} ready pods {what}: waiting for {named(behind)}"
    return progressing(s, status, reasons.WAITING_FOR_PODS, message)


def named(pods: list[PodState], *, shown: int = 3) -> str:
    """The pods a rollout waits for, each with what it last said wrong (unreachable, ...)."""
    parts = [f"{pod.name} ({pod.error})" if pod.error else pod.name for pod in pods[:shown]]
    more = f" and {len(pods) - shown} more" if len(pods) > shown else ""
    return ", ".join(parts) + more
