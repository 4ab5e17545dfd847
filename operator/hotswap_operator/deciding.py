"""The rollout state machine of a Canary, whole and pure: no kopf, no cluster, no files.

`next_decision(spec, status, observed, now)` turns the spec, the last status and what one
reconcile observed into the next status (which declares the routing: stable, canary, weight) and
the events to post; `routing_of` turns the routing it declares into the `Routing` the store
writes and the pods load. Each rule returns a Decision, or None when the case is not its own;
the first that answers wins (`RULES`, in order). `tests/unit/operator/test_deciding.py` is the
table of cases.

Sections, in reading order: what a decision is; the situation every rule reads; the rules
(aborts, first deploy, settling, superseding, waiting for the target); starting a rollout;
failing by analysis; Steps; Bandit; what every decision ends with (Ready, pod counts, events);
the offline gate; the routing a plan means.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from hotswap.store.routes import Arm, Routing
from hotswap_operator import analysing, conditions, specs, statistics, windows
from hotswap_operator.observations import (
    MISSING,
    REJECTED,
    VERIFIED,
    GateResult,
    Observation,
)
from hotswap_operator.specs import BANDIT, STEPS, Bandit, CanarySpec, OfflineGate, Step
from hotswap_operator.statuses import (
    ABORTED,
    DEPLOY,
    FAIL,
    INITIAL,
    NO_DATA,
    PASS,
    PROMOTED,
    REFUSED,
    ROLLBACK,
    AnalysisStatus,
    CanaryStatus,
    Condition,
    HistoryEntry,
    LastAnalysis,
    PodState,
    Rollout,
)

# What a decision is

NORMAL, WARNING = "Normal", "Warning"


@dataclass(frozen=True)
class Plan:
    """The routing a status declares, in ModelVersion names."""

    stable: str
    canary: str | None = None
    weight: int = 0


@dataclass(frozen=True)
class Event:
    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class Decision:
    status: CanaryStatus
    events: list[Event] = field(default_factory=list)

    @property
    def plan(self) -> Plan | None:
        return plan_of(self.status)


def plan_of(status: CanaryStatus) -> Plan | None:
    if status.stable_version is None:
        return None
    return Plan(status.stable_version, status.canary_version, status.weight)


# One reconcile's inputs, and the helpers every rule builds a Decision with


@dataclass(frozen=True)
class Situation:
    spec: CanarySpec
    status: CanaryStatus
    observed: Observation
    now: datetime
    analysis: AnalysisStatus | None = None  # the live window, judged on this look

    @property
    def stamp(self) -> str:
        return conditions.stamp(self.now)

    @property
    def target(self) -> str:
        return self.spec.version

    def promote_pending(self) -> str | None:
        value = self.observed.promote
        return value if value and value != self.status.promote_handled else None

    def abort_pending(self) -> str | None:
        value = self.observed.abort
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
        generation=s.observed.generation,
    )
    return replace(status, conditions=updated)


def progressing(
    s: Situation, status: CanaryStatus, reason: str, message: str, *, active: bool | str = True
) -> Decision:
    """Progressing set as given, Degraded cleared: a rollout that moves is not degraded."""
    status = with_condition(
        s, status, kind=conditions.PROGRESSING, value=active, reason=reason, message=message
    )
    return Decision(healthy(s, status))


def healthy(s: Situation, status: CanaryStatus) -> CanaryStatus:
    return with_condition(
        s,
        status,
        kind=conditions.DEGRADED,
        value=False,
        reason=conditions.HEALTHY,
        message="no failure",
    )


def degraded(s: Situation, status: CanaryStatus, reason: str, message: str) -> Decision:
    for kind in (conditions.PROGRESSING, conditions.DEGRADED):
        value = kind == conditions.DEGRADED
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
        cleared(status), stable_version=revert, aborted_generation=s.observed.generation
    )
    return degraded(s, status, reason, f"{message}; traffic stays on {revert} until spec changes")


def wait_for_pods(s: Situation, status: CanaryStatus, what: str) -> Decision:
    """Hold: nothing advances until at least one ready pod confirms, and every one does."""
    if not s.observed.pods:
        labels = s.spec.selector.match_labels
        message = f"no ready pod matches spec.selector {labels}: waiting for one to {what}"
        return progressing(s, status, conditions.NO_READY_PODS, message)
    behind = [pod for pod in s.observed.pods if not pod.ready]
    done = len(s.observed.pods) - len(behind)
    message = f"{done}/{len(s.observed.pods)} ready pods {what}: waiting for {named(behind)}"
    return progressing(s, status, conditions.WAITING_FOR_PODS, message)


def named(pods: list[PodState], *, shown: int = 3) -> str:
    """The pods a rollout waits for, each with what it last said wrong (unreachable, ...)."""
    parts = [f"{pod.name} ({pod.error})" if pod.error else pod.name for pod in pods[:shown]]
    more = f" and {len(pods) - shown} more" if len(pods) > shown else ""
    return ", ".join(parts) + more


# The rules, first answer wins

Rule = Callable[[Situation], Decision | None]


def next_decision(
    spec: CanarySpec, status: CanaryStatus, observed: Observation, now: datetime
) -> Decision:
    s = Situation(spec, status, observed, now)
    s = replace(s, analysis=analysing.look(spec, status, observed, s.stamp))
    for rule in RULES:
        decision = rule(s)
        if decision is not None:
            return finish(s, decision)
    return finish(s, Decision(status))


def hold_aborted(s: Situation) -> Decision | None:
    """An aborted rollout stays aborted until the spec changes; hand signals are consumed."""
    if s.status.aborted_generation != s.observed.generation:
        return None
    return Decision(consume_signals(s, s.status))


def abort_by_user(s: Situation) -> Decision | None:
    token = s.abort_pending()
    if token is None:
        return None
    status = replace(s.status, abort_handled=token)
    if status.rollout is None:
        return Decision(status)
    return abort(
        s, status, conditions.ABORTED_BY_USER, "aborted by the hotswap.dev/abort annotation"
    )


def abort_on_pod_failure(s: Situation) -> Decision | None:
    failure = s.observed.pod_failure
    if failure is None:
        return None
    message = f"pod {failure.pod} could not load {failure.version}: {failure.reason}"
    if s.status.rollout is None:
        return degraded(s, s.status, conditions.POD_LOAD_FAILED, message)
    return abort(s, s.status, conditions.POD_LOAD_FAILED, message)


def first_deploy(s: Situation) -> Decision | None:
    if s.status.stable_version is not None or s.observed.target.state != VERIFIED:
        return None
    rollout = Rollout(version=s.target, kind=INITIAL, started_at=s.stamp)
    status = replace(cleared(s.status), stable_version=s.target, rollout=rollout)
    message = f"deploying {s.target} as the first stable version"
    return progressing(s, status, conditions.DEPLOYING, message)


def settle(s: Situation) -> Decision | None:
    """spec.version is the stable: finish, cancel or keep what serves."""
    if s.target != s.status.stable_version:
        return None
    status = consume_signals(s, s.status)
    if status.canary_version is not None:
        status = with_history(
            s,
            status,
            outcome=ABORTED,
            reason=conditions.SPEC_REVERTED,
            message=f"spec.version points at the stable {s.target} again",
        )
        message = f"canary dropped: spec.version points at the stable {s.target} again"
        return progressing(s, cleared(status), conditions.SPEC_REVERTED, message, active=False)
    if status.rollout is not None:
        return complete(s, status)
    return steady(s, status)


def complete(s: Situation, status: CanaryStatus) -> Decision:
    if not s.observed.converged:
        return wait_for_pods(s, status, f"report {s.target} as stable")
    message = f"{s.target} serves as stable on {len(s.observed.pods)} ready pods"
    status = with_history(
        s, status, outcome=PROMOTED, reason=conditions.ROLLOUT_COMPLETE, message=message
    )
    return progressing(
        s, replace(status, rollout=None), conditions.ROLLOUT_COMPLETE, message, active=False
    )


def steady(s: Situation, status: CanaryStatus) -> Decision:
    kept = next((c for c in status.conditions if c.type == conditions.PROGRESSING), None)
    if kept is None or kept.status != "False":
        message = f"{s.target} serves as stable"
        return progressing(s, status, conditions.ROLLOUT_COMPLETE, message, active=False)
    return Decision(healthy(s, status))


def supersede(s: Situation) -> Decision | None:
    rollout = s.status.rollout
    if rollout is None or rollout.version == s.target:
        return None
    message = f"spec.version moved on to {s.target} before {rollout.version} finished"
    status = with_history(
        s, s.status, outcome=ABORTED, reason=conditions.SUPERSEDED, message=message
    )
    return progressing(s, cleared(status), conditions.SUPERSEDED, message)


def await_target(s: Situation) -> Decision | None:
    target = s.observed.target
    if target.state == VERIFIED:
        return None
    if target.state == REJECTED:
        return degraded(s, s.status, conditions.MODEL_VERSION_REJECTED, target.message)
    reason = (
        conditions.MODEL_VERSION_MISSING
        if target.state == MISSING
        else conditions.MODEL_VERSION_NOT_VERIFIED
    )
    return progressing(s, s.status, reason, target.message, active=False)


def consume_signals(s: Situation, status: CanaryStatus) -> CanaryStatus:
    """Promote and abort mean nothing without a rollout: mark them handled."""
    return replace(
        status,
        promote_handled=s.promote_pending() or status.promote_handled,
        abort_handled=s.abort_pending() or status.abort_handled,
    )


# Starting a rollout towards a verified spec.version: rollback, gate, Immediate or Steps


def start_rollout(s: Situation) -> Decision | None:
    if s.status.rollout is not None:
        return None
    if s.observed.target.served_before:
        return roll_back(s)
    status = s.status
    if s.spec.offline_gate is not None:
        gate = s.observed.gate
        if gate is None:
            message = "evaluating the offline gate"
            return progressing(s, status, conditions.DEPLOYING, message, active="Unknown")
        status = replace(status, last_analysis=gate_analysis(s, gate))
        if not gate.passed:
            return refuse(s, status, gate)
    if s.spec.strategy.type in (STEPS, BANDIT):
        return start_canary(s, status)
    return switch_stable(s, status, kind=DEPLOY, reason=conditions.DEPLOYING)


def roll_back(s: Situation) -> Decision:
    return switch_stable(s, s.status, kind=ROLLBACK, reason=conditions.ROLLING_BACK)


def switch_stable(s: Situation, status: CanaryStatus, *, kind: str, reason: str) -> Decision:
    """Immediate: all traffic to spec.version at once (also an instant rollback)."""
    rollout = Rollout(
        version=s.target, kind=kind, started_at=s.stamp, from_version=status.stable_version
    )
    status = replace(cleared(status), stable_version=s.target, rollout=rollout)
    verb = "rolling back" if kind == ROLLBACK else "switching"
    message = f"{verb} all traffic from {rollout.from_version} to {s.target}"
    return progressing(s, status, reason, message)


def start_canary(s: Situation, status: CanaryStatus) -> Decision:
    """Steps: the canary loaded at weight 0, step 0 next; Bandit: at its initial weight."""
    rollout = Rollout(
        version=s.target, kind=DEPLOY, started_at=s.stamp, from_version=status.stable_version
    )
    bandit = s.spec.strategy.type == BANDIT
    status = replace(
        cleared(status),
        canary_version=s.target,
        weight=s.spec.strategy.bandit.initial_weight if bandit else 0,
        current_step=None if bandit else 0,
        step_started_at=s.stamp,
        rollout=rollout,
    )
    message = f"canary {s.target} loaded beside {status.stable_version} at weight {status.weight}"
    return progressing(s, status, conditions.STEPPING, message)


def refuse(s: Situation, status: CanaryStatus, gate: GateResult) -> Decision:
    message = f"offline gate refused {s.target}: {gate.message}"
    status = with_history(
        s, status, outcome=REFUSED, reason=conditions.OFFLINE_GATE_FAILED, message=message
    )
    status = replace(status, aborted_generation=s.observed.generation)
    return degraded(s, status, conditions.OFFLINE_GATE_FAILED, message)


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


# Live analysis (`analysing.look` judged the window before the rules): a Fail rolls back at once


def checks_continuously(s: Situation) -> bool:
    """Whether a Fail acts now: spec.analysis set, an analysis step running, or Bandit."""
    spec = s.spec
    return (
        spec.analysis is not None
        or spec.strategy.type == BANDIT
        or analysing.analysis_step(spec, s.status) is not None
    )


def fail_by_analysis(s: Situation) -> Decision | None:
    """A Fail verdict sends all traffic back to stable at once, naming the numbers."""
    window = s.analysis
    if window is None or window.verdict != FAIL or s.status.rollout is None:
        return None
    if window.canary_version != s.target or not checks_continuously(s):
        return None
    failed = [m for m in window.metrics if m.state == FAIL]
    status = replace(
        s.status,
        last_analysis=analysing.last_analysis(window, failed[0] if failed else None, stamp=s.stamp),
    )
    message = f"analysis failed: {window.message}"
    return abort(s, status, conditions.ANALYSIS_FAILED, message)


# Steps: set a weight, pause (timed or until promoted), analyse; advance once every ready pod
# reports the routing declared so far (Argo's VerifyWeight)


def run_step(s: Situation) -> Decision | None:
    if s.status.canary_version != s.target:
        return None
    if not s.observed.converged:
        return wait_for_pods(s, s.status, "report the declared routing")
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
    status = replace(cleared(s.status), stable_version=s.target, rollout=s.status.rollout)
    message = f"every step passed: {s.target} becomes stable"
    return progressing(s, status, conditions.PROMOTING, message)


def set_weight(s: Situation, step: Step, index: int, *, total: int) -> Decision:
    weight = step.set_weight or 0
    if s.status.weight == weight:
        return advance(s, s.status, index)
    status = replace(s.status, weight=weight)
    message = f"step {index + 1}/{total} {step.name!r}: {s.target} answers {weight}%"
    return progressing(s, status, conditions.STEPPING, message)


def pause(s: Situation, step: Step, index: int, *, total: int) -> Decision | None:
    until = pause_end(s, step.pause.duration_seconds if step.pause else None)
    if until is not None and s.now >= until:
        return advance(s, s.status, index)
    when = f"until {conditions.stamp(until)}" if until else "until promoted (hotswap promote)"
    message = f"step {index + 1}/{total} {step.name!r}: paused at {s.status.weight}% {when}"
    return hold(s, index, conditions.PAUSED, message)


def hold(s: Situation, index: int, reason: str, message: str) -> Decision:
    """Stay on this step, unless promoted by hand (the hotswap.dev/promote annotation)."""
    token = s.promote_pending()
    if token is not None:
        return advance(s, replace(s.status, promote_handled=token), index)
    return progressing(s, s.status, reason, message)


def pause_end(s: Situation, seconds: int | None) -> datetime | None:
    started = s.status.step_started_at
    if seconds is None or started is None:
        return None
    return conditions.parse_stamp(started) + timedelta(seconds=seconds)


def analyse(s: Situation, step: Step, index: int, *, total: int) -> Decision | None:
    """Pass advances; Fail was acted on already (`fail_by_analysis`); Inconclusive
    holds until the step's time runs out, then follows spec.analysis.onInconclusive."""
    window = s.analysis
    where = f"step {index + 1}/{total} {step.name!r}"
    if window is None:
        return hold(s, index, conditions.ANALYSING, f"{where}: waiting for the analysis window")
    if window.verdict == PASS:
        status = replace(
            s.status, last_analysis=analysing.last_analysis(window, None, stamp=s.stamp)
        )
        return advance(s, status, index)
    override = step.analysis.max_duration_seconds if step.analysis else None
    until = pause_end(s, override or s.spec.analysed.max_duration_seconds)
    if until is None or s.now < until:
        message = f"{where}: analysing at {s.status.weight}% ({window.verdict}; status.analysis)"
        return hold(s, index, conditions.ANALYSING, message)
    return run_out(s, window, index, where)


def run_out(s: Situation, window: AnalysisStatus, index: int, where: str) -> Decision | None:
    """The step's time is up and the analysis is still inconclusive: onInconclusive."""
    choice = s.spec.analysed.on_inconclusive
    message = f"{where}: analysis still inconclusive after its maximum duration ({choice})"
    status = replace(s.status, last_analysis=analysing.last_analysis(window, None, stamp=s.stamp))
    if choice == specs.PROMOTE:
        return advance(s, status, index)
    if choice == specs.ROLLBACK:
        return abort(s, status, conditions.ANALYSIS_INCONCLUSIVE, message)
    held = hold(s, index, conditions.ANALYSIS_INCONCLUSIVE, f"{message}: promote or abort by hand")
    return replace(held, status=replace(held.status, last_analysis=status.last_analysis))


def advance(s: Situation, status: CanaryStatus, index: int) -> Decision:
    return Decision(replace(status, current_step=index + 1, step_started_at=s.stamp))


# Bandit: Thompson sampling over stable and canary on the feedback reward. The canary starts at
# `initialWeight`. Once each arm has `minFeedback` rewards, every `updateIntervalSeconds` its
# weight becomes its probability of having the higher mean reward, kept between `floor` and
# `ceiling`. It is promoted when that probability reaches `promoteProbability` and it is not
# worse on errors and latency (those checks Pass); it is rolled back when the probability falls
# to 1 - `promoteProbability`, and at once on any Fail (`fail_by_analysis`). The weight never
# moves without data.

GUARDS = ("errorRate", "slowRate")  # promotion needs these not worse


def run_bandit(s: Situation) -> Decision | None:
    if s.spec.strategy.type != BANDIT or s.status.canary_version != s.target:
        return None
    if not s.observed.converged:
        return wait_for_pods(s, s.status, "report the declared routing")
    window, bandit = s.analysis, s.spec.strategy.bandit
    if window is None or window.canary_best_probability is None or not has_data(window, bandit):
        message = (
            f"bandit: {s.target} answers {s.status.weight}% until each arm has "
            f"{bandit.min_feedback} rewards"
        )
        return progressing(s, s.status, conditions.BANDIT_ADJUSTING, message)
    best = window.canary_best_probability
    if best >= bandit.promote_probability and guards_pass(window):
        return promote(s)
    if best <= 1 - bandit.promote_probability:
        message = f"bandit: P({s.target} has the higher reward) = {best:.3f}; {window.message}"
        return abort(s, s.status, conditions.BANDIT_REJECTED, message)
    return adjust(s, window, bandit, best)


def has_data(window: AnalysisStatus, bandit: Bandit) -> bool:
    totals = window.totals
    return min(totals.stable.feedback_count, totals.canary.feedback_count) >= bandit.min_feedback


def guards_pass(window: AnalysisStatus) -> bool:
    states = {m.name: m.state for m in window.metrics}
    return all(states.get(name, NO_DATA) in (PASS, NO_DATA) for name in GUARDS)


def adjust(s: Situation, window: AnalysisStatus, bandit: Bandit, best: float) -> Decision:
    weight = statistics.bandit_weight(
        best, current=s.status.weight, floor=bandit.floor, ceiling=bandit.ceiling
    )
    last = s.status.step_started_at
    due = last is None or s.now >= conditions.parse_stamp(last) + timedelta(
        seconds=bandit.update_interval_seconds
    )
    status = s.status
    if due and weight != status.weight:
        status = replace(status, weight=weight, step_started_at=s.stamp)
    message = f"bandit: {s.target} answers {status.weight}% (status.analysis)"
    return progressing(s, status, conditions.BANDIT_ADJUSTING, message)


# The rules in the order `next_decision` tries them: the first that answers wins
RULES: tuple[Rule, ...] = (
    hold_aborted,
    abort_by_user,
    abort_on_pod_failure,
    first_deploy,
    settle,
    supersede,
    await_target,
    fail_by_analysis,
    start_rollout,
    run_bandit,
    run_step,
)


# What every decision ends with: pod counts, observedGeneration, Ready, and events

EVENTFUL = (conditions.PROGRESSING, conditions.DEGRADED)


def finish(s: Situation, decision: Decision) -> Decision:
    pods = s.observed.pods
    status = replace(
        decision.status,
        analysis=analysis_to_write(s, decision.status),
        observed_generation=s.observed.generation,
        pods=pods,
        total_pods=len(pods),
        converged_pods=sum(1 for pod in pods if pod.ready),
    )
    value, reason, message = readiness(s, status)
    status = with_condition(
        s, status, kind=conditions.READY, value=value, reason=reason, message=message
    )
    events = decision.events + condition_events(s.status.conditions, status.conditions)
    return Decision(status, events)


def readiness(s: Situation, status: CanaryStatus) -> tuple[bool, str, str]:
    """Ready: spec.version serves as stable, nothing in flight, every ready pod reports it."""
    if status.stable_version is None:
        return False, conditions.NO_STABLE_VERSION, "no verified version has served yet"
    if status.aborted_generation == s.observed.generation:
        return False, degraded_reason(status), f"the rollout of {s.target} was aborted"
    if status.rollout is not None or status.canary_version is not None:
        return False, conditions.ROLLOUT_IN_PROGRESS, f"rolling out {s.target}"
    if s.target != status.stable_version:
        found = conditions.find(status.conditions, conditions.PROGRESSING)
        return False, found.reason if found else conditions.ROLLOUT_IN_PROGRESS, f"{s.target} waits"
    return pods_readiness(s, status)


def pods_readiness(s: Situation, status: CanaryStatus) -> tuple[bool, str, str]:
    converged = s.observed.converged and plan_of(status) == plan_of(s.status)
    total, done = status.total_pods, status.converged_pods
    if total == 0:
        labels = s.spec.selector.match_labels
        return False, conditions.NO_READY_PODS, f"no ready pod matches spec.selector {labels}"
    if not converged:
        message = f"{done}/{total} ready pods report the declared routing"
        return False, conditions.WAITING_FOR_PODS, message
    return True, conditions.CONVERGED, f"{status.stable_version} serves on {done}/{total} pods"


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
    found = conditions.find(status.conditions, conditions.DEGRADED)
    return found.reason if found else conditions.ABORTED_BY_USER


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
            condition.type == conditions.DEGRADED and condition.status != "True" and before is None
        ):
            events.append(event_for(condition))
    return events


def event_for(condition: Condition) -> Event:
    warning = condition.type == conditions.DEGRADED and condition.status == conditions.TRUE
    return Event(WARNING if warning else NORMAL, condition.reason, condition.message)


# The offline gate: a candidate's metric against the stable's, with a tolerated drop


def evaluate_gate(
    gate: OfflineGate, stable: Mapping[str, Any], canary: Mapping[str, Any]
) -> GateResult:
    """Pass when canary >= stable - maxDrop; a metric missing on either side fails, saying so."""
    old, new = metric_value(stable, gate.metric), metric_value(canary, gate.metric)
    if old is None or new is None:
        side = "stable" if old is None else "candidate"
        return GateResult(
            passed=False,
            metric=gate.metric,
            message=f"the {side} version's metrics.json has no numeric {gate.metric!r}: "
            "fix spec.offlineGate.metric or the training output",
            stable=old,
            canary=new,
            max_drop=gate.max_drop,
        )
    passed = new >= old - gate.max_drop - 1e-12
    verb = "within" if passed else "exceeds"
    return GateResult(
        passed=passed,
        metric=gate.metric,
        message=f"{gate.metric} {new:.4f} vs stable {old:.4f}: drop {max(old - new, 0):.4f} "
        f"{verb} maxDrop {gate.max_drop:.4f}",
        stable=old,
        canary=new,
        max_drop=gate.max_drop,
    )


def metric_value(metrics: Mapping[str, Any], name: str) -> float | None:
    """`name` at the top of metrics.json, or under a "metrics" object; numbers only."""
    for scope in (metrics, metrics.get("metrics")):
        if isinstance(scope, Mapping):
            value = scope.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
    return None


# The routing a plan means


def routing_of(plan: Plan | None, spec: CanarySpec, *, arms: Mapping[str, Arm]) -> Routing | None:
    """The routing a plan declares (generation 0: the writer numbers it), with the version ids
    and digests of its ModelVersions from `arms` (by name); None when an arm is unknown."""
    if plan is None or plan.stable not in arms:
        return None
    if plan.canary is not None and plan.canary not in arms:
        return None
    return Routing(
        stable=arms[plan.stable],
        canary=arms[plan.canary] if plan.canary else None,
        weight=plan.weight if plan.canary else 0,
        sticky_header=spec.sticky_header,
        mirror_percent=spec.mirror_percent if plan.canary else 0,
    )


def same_routing(a: Routing, b: Routing) -> bool:
    """The same routing, whatever generation each carries."""
    return a.to_dict() | {"generation": 0} == b.to_dict() | {"generation": 0}
