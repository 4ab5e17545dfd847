"""Observe one Canary's world: its ModelVersions (the one spec.version names, as the decision
sees it: missing, pending, rejected or verified), routing.json, its pods and what each reports,
the offline gate's metrics, and the analysis source. What was read is kept in `World` for
actuating; what the decision needs is an `Observation`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hotswap import resources
from hotswap.store import files, layout
from hotswap.store.buckets import Unavailable
from hotswap.store.errors import StoreError
from hotswap.store.routes import Arm, Routing
from hotswap_operator import (
    conditions,
    deciding,
    encoding,
    querying,
    reloading,
    specs,
)
from hotswap_operator.deciding import Plan, plan_of
from hotswap_operator.observations import (
    MISSING,
    PENDING,
    REJECTED,
    VERIFIED,
    GateResult,
    Observation,
    Target,
)
from hotswap_operator.reloading import Reply
from hotswap_operator.runtimes import Context
from hotswap_operator.specs import CanarySpec
from hotswap_operator.statuses import PROMETHEUS, PROMOTED, CanaryStatus, Condition


@dataclass(frozen=True)
class World:
    """What was read, kept for actuating: arms by ModelVersion name, routing.json, and the
    answer of each ready pod to GET /admin/status (each names its pod)."""

    arms: dict[str, Arm] = field(default_factory=dict)
    routing: Routing | None = None
    replies: list[Reply] = field(default_factory=list)


def observe(
    ctx: Context,
    body: dict[str, Any],
    spec: CanarySpec,
    status: CanaryStatus,
    *,
    known: Mapping[str, Reply] | None = None,
) -> tuple[Observation, World]:
    """`known`: pods' replies earlier in this reconcile (by pod name), which stand in for
    asking them again (`read_pods`)."""
    names = {spec.version, status.stable_version, status.canary_version}
    names.add(status.rollout.from_version if status.rollout else None)
    bodies = {n: read_model_version(ctx, n) for n in names if n}
    found = {n: arm_of(b) for n, b in bodies.items() if b is not None}
    world = World(
        arms={n: arm for n, arm in found.items() if arm is not None},
        routing=ctx.store.read_routing(spec.model),
        replies=read_pods(ctx, spec, known or {}),
    )
    target = target_of(ctx, spec, status, bodies.get(spec.version))
    annotations = body.get("metadata", {}).get("annotations") or {}
    signals = observe_signals(ctx, spec, status, world)
    observed = Observation(
        generation=int(body["metadata"].get("generation") or 1),
        target=target,
        pods=[reloading.assess_pod(r, world.routing) for r in world.replies],
        routing_matches=matches(world, spec, plan_of(status)),
        gate=gate_of(ctx, spec, status, target, arms=world.arms),
        pod_failure=next(
            filter(None, (reloading.failure_of(r, world.routing) for r in world.replies)), None
        ),
        promote=annotations.get(resources.PROMOTE_ANNOTATION),
        abort=annotations.get(resources.ABORT_ANNOTATION),
        **signals,
    )
    return observed, world


def observe_signals(
    ctx: Context, spec: CanarySpec, status: CanaryStatus, world: World
) -> dict[str, Any]:
    """The analysis source's look: pods' counters, or Prometheus' window sums."""
    arms = window_arms(status, world)
    if arms is None:
        return {}
    url = spec.analysis.prometheus.url if spec.analysis and spec.analysis.prometheus else None
    url = url or ctx.config.prometheus_url
    if url is None:
        found = (
            reloading.sample_of(r, stable=arms.stable, canary=arms.canary) for r in world.replies
        )
        return {"samples": [sample for sample in found if sample is not None]}
    window = status.analysis
    if window is None or window.canary_version != status.canary_version:
        return {"source": PROMETHEUS}  # the window opens on this look; sums from the next
    seconds = (datetime.now(UTC) - conditions.parse_stamp(window.started_at)).total_seconds()
    try:
        totals = querying.read_totals(url, spec.model, arms, seconds=math.ceil(seconds))
    except querying.SourceError as exc:
        return {"source": PROMETHEUS, "source_error": str(exc)}
    return {"source": PROMETHEUS, "totals": totals}


def window_arms(status: CanaryStatus, world: World) -> querying.Arms | None:
    """The version ids of the rollout's stable and canary, when a canary takes traffic."""
    stable = world.arms.get(status.stable_version or "")
    canary = world.arms.get(status.canary_version or "")
    if stable is None or canary is None or status.rollout is None:
        return None
    return querying.Arms(stable=stable.version, canary=canary.version)


def read_pods(ctx: Context, spec: CanarySpec, known: Mapping[str, Reply]) -> list[Reply]:
    """What each ready pod the selector matches answers to GET /admin/status; a pod that gave a
    well-formed report earlier in this reconcile (a status or a reload answer, both the pod's
    whole report) is not asked again: a reconcile's later passes then ask only the pods that
    appeared or did not answer."""
    pods = ctx.watching.ready_pods(ctx.namespace, spec.selector.match_labels)
    reused = {
        pod.name: reply
        for pod in pods
        if (reply := known.get(pod.name)) is not None and reply.pod == pod and reply.report
    }
    unknown = [pod for pod in pods if pod.name not in reused]
    ctx.metrics.pod_requests.labels(spec.model, "status").inc(len(unknown))
    asked = reloading.read_pods(
        unknown, token=ctx.config.reload_token, timeout=ctx.config.status_timeout
    )
    fresh = {reply.pod.name: reply for reply in asked}
    return [reused.get(pod.name) or fresh[pod.name] for pod in pods]


def read_model_version(ctx: Context, name: str) -> dict[str, Any] | None:
    """The watch's copy once it is verified (or rejected: both final), else the API server's:
    our own verification may not have come back on the watch yet."""
    return ctx.watching.model_version(ctx.namespace, name, fresh=is_verdict)


def is_verdict(body: dict[str, Any]) -> bool:
    return answered(verification_of(body))


def answered(found: Condition | None) -> bool:
    """Verification has answered: Verified True, or False for a reason other than missing
    files (those are retried)."""
    return found is not None and (
        found.status == conditions.TRUE or found.reason != conditions.ARTIFACT_MISSING
    )


def verification_of(body: dict[str, Any]) -> Condition | None:
    raw = (body.get("status") or {}).get("conditions") or []
    return conditions.find([c for c in map(condition_of, raw) if c], conditions.VERIFIED)


def arm_of(body: dict[str, Any]) -> Arm | None:
    try:
        spec = specs.parse_model_version(body.get("spec"))
        return Arm(spec.version, spec.digest)
    except (ValueError, StoreError):
        return None


def matches(world: World, spec: CanarySpec, plan: Plan | None) -> bool:
    """routing.json declares what `plan` means."""
    desired = deciding.routing_of(plan, spec, arms=world.arms)
    if desired is None or world.routing is None:
        return False
    return deciding.same_routing(world.routing, desired)


def gate_of(
    ctx: Context,
    spec: CanarySpec,
    status: CanaryStatus,
    target: Target,
    *,
    arms: dict[str, Arm],
) -> GateResult | None:
    """Evaluated only when a rollout may start: a gate, a stable, a new verified target."""
    gate = spec.offline_gate
    stable = status.stable_version
    if gate is None or stable is None or target.state != VERIFIED or status.rollout is not None:
        return None
    if spec.version == stable:
        return None
    return deciding.evaluate_gate(
        gate,
        read_metrics(ctx, spec, arms.get(stable)),
        read_metrics(ctx, spec, arms.get(spec.version)),
    )


def read_metrics(ctx: Context, spec: CanarySpec, arm: Arm | None) -> dict[str, Any]:
    """The version's metrics.json; empty when unknown or unreadable (the gate says so)."""
    if arm is None:
        return {}
    try:
        found = files.read_json(ctx.store.materialize(spec.model, arm) / layout.METRICS)
    except (StoreError, OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def target_of(
    ctx: Context, spec: CanarySpec, status: CanaryStatus, body: dict[str, Any] | None
) -> Target:
    name = spec.version
    if body is None:
        message = (
            f"ModelVersion {name} does not exist in namespace {ctx.namespace}: create it "
            "(`hotswap train` prints one) or point spec.version at an existing one"
        )
        return Target(name, MISSING, message)
    try:
        mv_spec = specs.parse_model_version(body.get("spec"))
    except ValueError as exc:
        return Target(name, REJECTED, f"ModelVersion {name} is malformed: {exc}")
    if mv_spec.model != spec.model:
        message = (
            f"ModelVersion {name} is of model {mv_spec.model}, this Canary serves {spec.model}"
        )
        return Target(name, REJECTED, message)
    return verified_target(ctx, status, body, mv_spec)


def verified_target(
    ctx: Context, status: CanaryStatus, body: dict[str, Any], mv_spec: specs.ModelVersionSpec
) -> Target:
    name = body["metadata"]["name"]
    mv_status = body.get("status") or {}
    found = verification_of(body)
    if found is None or not answered(found):
        why = found.message if found else "the operator has not verified it yet"
        return Target(name, PENDING, f"ModelVersion {name} is not verified: {why}")
    if found.status != conditions.TRUE:
        return Target(
            name,
            REJECTED,
            f"ModelVersion {name} failed verification ({found.reason}): {found.message}",
        )
    try:
        ctx.store.check_intact(mv_spec.artifact_path, mv_spec.digest)
    except Unavailable as exc:  # the object store is down: wait, never reject for that
        return Target(name, PENDING, f"ModelVersion {name} cannot be checked now: {exc}")
    except (StoreError, OSError) as exc:
        return Target(name, REJECTED, f"ModelVersion {name} is no longer intact: {exc}")
    served = bool(mv_status.get("lastServedAt")) or any(
        e.version == name and e.outcome == PROMOTED for e in status.history
    )
    return Target(name, VERIFIED, f"ModelVersion {name} is verified", served_before=served)


def condition_of(raw: Any) -> Condition | None:
    try:
        return encoding.load(Condition, raw, where="condition")
    except ValueError:
        return None
