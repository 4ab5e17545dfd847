"""The pod reload protocol, operator side: what a pod is to it (a name and an admin address),
POST /admin/reload and GET /admin/status on each pod, and what a pod's answer means against the
declared routing (converged, behind, or failed) with the counters it reports for the analysis.

Requests go out in parallel (one thread each, bounded); a pod that does not answer is reported,
never waited for beyond the timeout. The wire format and its client are the store's
(`hotswap.store.signalling`, `hotswap.store.reports`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hotswap import resources
from hotswap.store import signalling as protocol
from hotswap.store.reports import ArmSignals, PodReport
from hotswap.store.routes import Routing
from hotswap_operator import faults
from hotswap_operator.observations import PodFailure
from hotswap_operator.statuses import Counts, Pair, PodState
from hotswap_operator.windows import PodSample

POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="signal")
LOAD_FAILED = 422


@dataclass(frozen=True)
class Pod:
    """A ready pod the Canary's selector matches, and where its admin port listens."""

    name: str
    ip: str
    admin_port: int


@dataclass(frozen=True)
class Reply:
    pod: Pod
    code: int  # HTTP status; 0 when the pod could not be reached
    body: dict[str, Any]
    error: str | None = None

    @functools.cached_property
    def report(self) -> PodReport | None:
        """The pod's report (a well-formed 200), parsed once however often a pass reads it."""
        return protocol.report_of(self.code, self.body)


def reload_pods(
    pods: Sequence[Pod], body: dict[str, Any], *, token: str | None, timeout: float
) -> list[Reply]:
    data = json.dumps(body).encode()
    replies: list[Reply] = []
    for reply in POOL.map(lambda pod: call(pod, "/admin/reload", data, token, timeout), pods):
        replies.append(reply)
        faults.reach(faults.PODS_SIGNALLED, done=len(replies), of=len(pods), pod=reply.pod.name)
    return replies


def read_pods(pods: Sequence[Pod], *, token: str | None, timeout: float) -> list[Reply]:
    return list(POOL.map(lambda pod: call(pod, "/admin/status", None, token, timeout), pods))


def call(pod: Pod, path: str, data: bytes | None, token: str | None, timeout: float) -> Reply:
    """One request, through the store's client of the protocol (`hotswap.store.signalling`)."""
    address = protocol.Address(pod.ip, pod.admin_port)
    reply = protocol.call(address, path, data, token=token or "", timeout=timeout)
    return Reply(pod, reply.code, reply.body, error=reply.error)


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
        stable=counts_of(signals.arm(stable, resources.STABLE_ARM)),
        canary=counts_of(signals.arm(canary, resources.CANARY_ARM)),
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
