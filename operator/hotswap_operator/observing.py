"""Observe one Canary's world: its ModelVersions, routing.json, its pods, the offline gate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hotswap.store import files, layout, routes
from hotswap.store.errors import StoreError
from hotswap.store.routes import Arm, Routing
from hotswap_operator import (
    assessing,
    conditions,
    finding,
    gating,
    querying,
    signalling,
    specs,
    targeting,
)
from hotswap_operator.contexts import Context
from hotswap_operator.decisions import Plan, plan_of
from hotswap_operator.specs import CanarySpec
from hotswap_operator.statuses import PROMETHEUS, CanaryStatus
from hotswap_operator.verdicts import (
    VERIFIED,
    GateResult,
    Target,
    Verdict,
)


@dataclass
class World:
    """What was read, kept for actuating: arms by ModelVersion name, routing.json, pods."""

    arms: dict[str, Arm] = field(default_factory=dict)
    routing: Routing | None = None
    pods: list[finding.Pod] = field(default_factory=list)
    replies: list[signalling.Reply] = field(default_factory=list)


def observe(
    ctx: Context, body: dict[str, Any], spec: CanarySpec, status: CanaryStatus
) -> tuple[Verdict, World]:
    world = World(routing=routes.read_routing(ctx.paths(spec.model)))
    names = {spec.version, status.stable_version, status.canary_version}
    names.add(status.rollout.from_version if status.rollout else None)
    bodies = {n: finding.get_model_version(ctx.apis, ctx.namespace, n) for n in names if n}
    found = {n: arm_of(b) for n, b in bodies.items() if b is not None}
    world.arms = {n: arm for n, arm in found.items() if arm is not None}
    target = targeting.target_of(ctx, spec, status, bodies.get(spec.version))
    observe_pods(ctx, spec, world)
    annotations = body.get("metadata", {}).get("annotations") or {}
    signals = observe_signals(ctx, spec, status, world)
    verdict = Verdict(
        generation=int(body["metadata"].get("generation") or 1),
        target=target,
        pods=[assessing.assess_pod(r, world.routing) for r in world.replies],
        routing_matches=matches(world, spec, plan_of(status)),
        gate=gate_of(ctx, spec, status, target),
        pod_failure=next(
            filter(None, (assessing.failure_of(r, world.routing) for r in world.replies)), None
        ),
        promote=annotations.get(specs.PROMOTE_ANNOTATION),
        abort=annotations.get(specs.ABORT_ANNOTATION),
        **signals,
    )
    return verdict, world


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
            assessing.sample_of(r, stable=arms.stable, canary=arms.canary) for r in world.replies
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


def observe_pods(ctx: Context, spec: CanarySpec, world: World) -> None:
    labels = spec.selector.match_labels
    world.pods = finding.list_ready_pods(
        ctx.apis, ctx.namespace, labels, default_port=ctx.config.admin_port
    )
    world.replies = signalling.read_pods(
        world.pods, token=ctx.config.reload_token, timeout=ctx.config.signal_timeout
    )


def arm_of(body: dict[str, Any]) -> Arm | None:
    try:
        spec = specs.parse_model_version(body.get("spec"))
        return Arm(spec.version, spec.digest)
    except (ValueError, StoreError):
        return None


def desired_routing(world: World, spec: CanarySpec, plan: Plan | None) -> Routing | None:
    """The routing a plan means, generation aside; None when an arm is unknown."""
    if plan is None or plan.stable not in world.arms:
        return None
    if plan.canary is not None and plan.canary not in world.arms:
        return None
    return Routing(
        stable=world.arms[plan.stable],
        canary=world.arms[plan.canary] if plan.canary else None,
        weight=plan.weight if plan.canary else 0,
        sticky_header=spec.sticky_header,
        mirror_percent=spec.mirror_percent if plan.canary else 0,
    )


def matches(world: World, spec: CanarySpec, plan: Plan | None) -> bool:
    desired = desired_routing(world, spec, plan)
    if desired is None or world.routing is None:
        return False
    return same_content(world.routing, desired)


def same_content(a: Routing, b: Routing) -> bool:
    return a.to_dict() | {"generation": 0} == b.to_dict() | {"generation": 0}


def gate_of(
    ctx: Context, spec: CanarySpec, status: CanaryStatus, target: Target
) -> GateResult | None:
    """Evaluated only when a rollout may start: a gate, a stable, a new verified target."""
    gate = spec.offline_gate
    stable = status.stable_version
    if gate is None or stable is None or target.state != VERIFIED or status.rollout is not None:
        return None
    if spec.version == stable:
        return None
    return gating.evaluate_gate(
        gate, read_metrics(ctx, spec, stable), read_metrics(ctx, spec, spec.version)
    )


def read_metrics(ctx: Context, spec: CanarySpec, name: str) -> dict[str, Any]:
    body = finding.get_model_version(ctx.apis, ctx.namespace, name)
    arm = arm_of(body) if body else None
    if arm is None:
        return {}
    try:
        found = files.read_json(ctx.paths(spec.model).version(arm.version) / layout.METRICS)
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}
