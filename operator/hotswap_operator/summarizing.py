"""What every decision ends with: pod counts, observedGeneration, Ready, and events."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hotswap_operator import conditions, reasons, situations, windows
from hotswap_operator.decisions import NORMAL, WARNING, Decision, Event, plan_of
from hotswap_operator.situations import Situation
from hotswap_operator.statuses import AnalysisStatus, CanaryStatus, Condition

EVENTFUL = (reasons.PROGRESSING, reasons.DEGRADED)


def finish(s: Situation, decision: Decision) -> Decision:
    pods = s.verdict.pods
    status = replace(
        decision.status,
        analysis=analysis_to_write(s, decision.status),
        observed_generation=s.verdict.generation,
        pods=pods,
        total_pods=len(pods),
        converged_pods=sum(1 for pod in pods if pod.ready),
    )
    value, reason, message = readiness(s, status)
    status = situations.with_condition(
        s, status, kind=reasons.READY, value=value, reason=reason, message=message
    )
    events = decision.events + condition_events(s.status.conditions, status.conditions)
    return Decision(status, events)


def readiness(s: Situation, status: CanaryStatus) -> tuple[bool, str, str]:
    """Ready: spec.version serves as stable, nothing in flight, every ready pod reports it."""
    if status.stable_version is None:
        return False, reasons.NO_STABLE_VERSION, "no verified version has served yet"
    if status.aborted_generation == s.verdict.generation:
        return False, degraded_reason(status), f"the rollout of {s.target} was aborted"
    if status.rollout is not None or status.canary_version is not None:
        return False, reasons.ROLLOUT_IN_PROGRESS, f"rolling out {s.target}"
    if s.target != status.stable_version:
        found = conditions.find(status.conditions, reasons.PROGRESSING)
        return False, found.reason if found else reasons.ROLLOUT_IN_PROGRESS, f"{s.target} waits"
    return pods_readiness(s, status)


def pods_readiness(s: Situation, status: CanaryStatus) -> tuple[bool, str, str]:
    converged = s.verdict.converged and plan_of(status) == plan_of(s.status)
    total, done = status.total_pods, status.converged_pods
    if total == 0:
        labels = s.spec.selector.match_labels
        return False, reasons.NO_READY_PODS, f"no ready pod matches spec.selector {labels}"
    if not converged:
        message = f"{done}/{total} ready pods report the declared routing"
        return False, reasons.WAITING_FOR_PODS, message
    return True, reasons.CONVERGED, f"{status.stable_version} serves on {done}/{total} pods"


def analysis_to_write(s: Situation, decided: CanaryStatus) -> AnalysisStatus | None:
    """The fresh window when it matters (a new window, verdict or pod process, another change
    being written, or `intervalSeconds` since the last write); else the one in status, so an
    idle look writes nothing. Without a canary, the last window stays for people to read."""
    fresh, kept = s.analysis, s.status.analysis
    if fresh is None or kept is None:
        return fresh or kept
    if decided != s.status or fresh.started_at != kept.started_at:
        return fresh
    if fresh.verdict != kept.verdict or not windows.same_processes(fresh, kept):
        return fresh
    due = conditions.parse_stamp(kept.updated_at) + timedelta(
        seconds=s.spec.analysed.interval_seconds
    )
    return fresh if s.now >= due else kept


def degraded_reason(status: CanaryStatus) -> str:
    found = conditions.find(status.conditions, reasons.DEGRADED)
    return found.reason if found else reasons.ABORTED_BY_USER


def condition_events(old: list[Condition], new: list[Condition]) -> list[Event]:
    """One event per change of Progressing or Degraded, and per flip of Ready."""
    events = []
    for condition in new:
        before = conditions.find(old, condition.type)
        if condition.type in EVENTFUL:
            changed = before is None or (before.status, before.reason, before.message) != (
                condition.status,
                condition.reason,
                condition.message,
            )
        else:
            changed = before is None or before.status != condition.status
        if changed and not (
            condition.type == reasons.DEGRADED and condition.status != "True" and before is None
        ):
            events.append(event_for(condition))
    return events


def event_for(condition: Condition) -> Event:
    warning = condition.type == reasons.DEGRADED and condition.status == conditions.TRUE
    return Event(WARNING if warning else NORMAL, condition.reason, condition.message)
