"""What a pod's answer means against the declared routing: converged, behind, or failed; and
the counters it reports for the analysis window."""

from __future__ import annotations

from hotswap.store.reports import ArmSignals
from hotswap.store.routes import Routing
from hotswap_operator.signalling import Reply
from hotswap_operator.statuses import Counts, Pair, PodState
from hotswap_operator.verdicts import PodFailure
from hotswap_operator.windows import PodSample

LOAD_FAILED = 422
STABLE_ARM, CANARY_ARM = "stable", "canary"  # the arm names of the pods' signals


def assess_pod(reply: Reply, routing: Routing | None) -> PodState:
    report = reply.report
    if report is None:
        error = reply.error or ("a malformed status reply" if reply.code == 200 else None)
        return PodState(name=reply.pod.name, ip=reply.pod.ip, error=error)
    failure = report.failure_at(routing.generation) if routing else None
    return PodState(
        name=reply.pod.name,
        ip=reply.pod.ip,
        versions=list(report.versions),
        generation=report.generation or 0,
        ready=routing is not None and report.reports(routing),
        error=failure.describe() if failure else None,
    )


def reports(reply: Reply, routing: Routing) -> bool:
    report = reply.report
    return report is not None and report.reports(routing)


def failure_of(reply: Reply, routing: Routing | None) -> PodFailure | None:
    """A pod that could not load a version of the declared routing (it still serves the old)."""
    body = reply.body
    if reply.code == LOAD_FAILED and body.get("error") == "load_failed":
        return PodFailure(reply.pod.name, str(body.get("version")), str(body.get("reason")))
    report = reply.report
    if report is None or routing is None or report.reports(routing):
        return None
    failure = report.failure_at(routing.generation)
    return PodFailure(reply.pod.name, failure.version, failure.reason) if failure else None


def sample_of(reply: Reply, *, stable: str, canary: str) -> PodSample | None:
    """The pod's cumulative counters of (stable version, stable arm) and (canary, canary)."""
    report = reply.report
    if report is None or report.signals is None:
        return None
    signals = report.signals
    counts = Pair(
        stable=counts_of(signals.arm(stable, STABLE_ARM)),
        canary=counts_of(signals.arm(canary, CANARY_ARM)),
    )
    return PodSample(reply.pod.name, signals.epoch, counts)


def counts_of(arm: ArmSignals | None) -> Counts:
    if arm is None:
        return Counts()
    return Counts(
        requests=arm.requests,
        errors=arm.errors,
        slow=arm.slow,
        feedback_count=arm.feedback_count,
        feedback_sum=arm.feedback_sum,
        feedback_sum_squares=arm.feedback_sum_squares,
        labels=dict(arm.labels),
    )
