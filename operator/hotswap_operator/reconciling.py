"""The Canary reconciler: observe, decide, actuate, then write status, events, and what follows
from the status (the ModelVersions' status.serving, the metrics).

Level-based: every pass starts from what is (routing.json, pods, ModelVersions) and the last
status; killing the operator at any point and running this again converges.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from hotswap import resources
from hotswap_operator import (
    actuating,
    cluster,
    conditions,
    deciding,
    encoding,
    faults,
    observing,
    runtimes,
    specs,
    statuses,
)
from hotswap_operator.actuating import Actuated
from hotswap_operator.deciding import Decision, Event
from hotswap_operator.observing import World
from hotswap_operator.reloading import Reply, reports
from hotswap_operator.runtimes import Context
from hotswap_operator.statuses import CanaryStatus

log = logging.getLogger(__name__)
MAX_PASSES = 8


@dataclass
class Settled:
    """What a Canary's pods answered when its last reconcile ended settled
    (`runtimes.is_settled`: Ready, nothing in flight, every pod converged); empty otherwise.
    Its daemon keeps it between reconciles (`handlers.run_canary`)."""

    replies: dict[str, Reply] = field(default_factory=dict)


def reconcile_canary(
    ctx: Context, body: dict[str, Any], settled: Settled | None = None
) -> dict[str, Any]:
    """Passes until nothing moves (bounded); returns the body as last written. A switch of the
    stable alone (Immediate, or an instant rollback) whose signalled pods all answered leaves
    its status to the next pass, which decides from those answers: one status write per
    switch, not one before the answers are read and one after (`may_wait`).

    The first pass of a new spec after a settled reconcile decides from the pods' answers
    `settled` kept instead of asking every pod again (`reconcile_once`); `settled` is then
    brought up to date."""
    started = time.perf_counter()
    spec = specs.parse_canary(body.get("spec"))
    status = written_as = statuses.parse_canary(body.get("status"))
    events: list[Event] = []  # decided since the last write: posted with the next one
    known: dict[str, Reply] = {}  # each pod's last reply in this reconcile
    assumed = settled.replies if settled and respecified(body, status) else {}
    if settled is not None:
        settled.replies = {}  # until this reconcile ends settled
    for remaining in reversed(range(MAX_PASSES)):
        passed = reconcile_once(ctx, body, spec, status, known=known, assumed=assumed)
        assumed = {}
        status, events = passed.status, events + passed.events
        ctx.metrics.show_canary(ctx.name, spec.model, status)
        waits = remaining > 0 and may_wait(written_as, passed)
        if (status != written_as or events) and not waits:
            body = write_status(ctx, body, written_as, Decision(status, events))
            written_as, events = status, []
        if not passed.busy:
            break
    ctx.metrics.reconcile.labels("Canary").observe(time.perf_counter() - started)
    if settled is not None:
        calm = runtimes.is_settled(status, runtimes.generation_of(body))
        settled.replies = dict(known) if calm else {}
    return body


def respecified(body: dict[str, Any], status: CanaryStatus) -> bool:
    """The spec changed since the status was decided (metadata.generation moved on)."""
    return status.observed_generation != runtimes.generation_of(body)


@dataclass(frozen=True)
class Pass:
    """One pass: the status it decided, its events, whether it signalled pods and each one
    answered with the routing, and whether anything moved (another pass is worthwhile)."""

    status: CanaryStatus
    events: list[Event]
    confirmed: bool
    busy: bool


def reconcile_once(
    ctx: Context,
    body: dict[str, Any],
    spec: specs.CanarySpec,
    status: CanaryStatus,
    *,
    known: dict[str, Reply],
    assumed: Mapping[str, Reply] | None = None,
) -> Pass:
    """Observe, decide, actuate; the status to write. `known` (the pods' last replies, by
    name) is read and brought up to date.

    `assumed`: the pods' answers when the Canary last settled, standing in for asking them.
    Nothing a pod serves changes while a Canary is settled (routing.json is ours to change), so
    they are the answers a fresh ask would get, bar the counters, which only a rollout reads.
    They stand only when the pass rewrites the routing: then every pod is signalled, and its
    answer, fresh, is what the next pass decides from. A pass that moves nothing is decided
    again from the pods' answers now."""
    observed, world = observing.observe(ctx, body, spec, status, known={**(assumed or {}), **known})
    decision = deciding.next_decision(spec, status, observed, datetime.now(UTC))
    actuated = carry_out(ctx, spec, decision, world=world, generation=status.routing_generation)
    fresh = [r for r in world.replies if not assumed or assumed.get(r.pod.name) is not r]
    known.update((reply.pod.name, reply) for reply in fresh + actuated.signalled)
    if assumed and not actuated.wrote_routing:
        return reconcile_once(ctx, body, spec, status, known=known)
    new = decision.status
    if actuated.routing is not None:
        new = replace(new, routing_generation=actuated.routing.generation)
        ctx.metrics.show_serving(spec.model, actuated.routing)
    busy = actuated.acted or new != status
    return Pass(new, list(decision.events), confirmed(actuated), busy)


def may_wait(written: CanaryStatus, passed: Pass) -> bool:
    """Whether the status of `passed` may wait for the next pass's write. Only for a switch of
    the stable alone, with no canary arm before (as written) or after: if the operator dies
    before the next write, its next life decides the same routing from spec.version again, so
    nothing goes back. A stepped rollout's stage is in the status alone: a new life would
    route as the status says, a step back (for a promotion, `current` back to the old version,
    as a session-5 attempt showed in test_crashes.py), so it is written at once."""
    stable_only = written.canary_version is None and passed.status.canary_version is None
    return stable_only and passed.confirmed


def confirmed(actuated: Actuated) -> bool:
    """Pods were signalled and every one answered that it serves the routing."""
    routing, replies = actuated.routing, actuated.signalled
    return routing is not None and bool(replies) and all(reports(r, routing) for r in replies)


def carry_out(
    ctx: Context, spec: specs.CanarySpec, decision: Decision, *, world: World, generation: int
) -> Actuated:
    """Actuate first, then write status: the routing in force, whether anything moved, and
    the pods signalled."""
    desired = deciding.routing_of(decision.plan, spec, arms=world.arms)
    if desired is None:
        if decision.plan is not None:
            log.warning(
                "%s: no verified arm for %s yet; routing left as is", ctx.name, decision.plan
            )
        return Actuated(world.routing)
    return actuating.actuate(
        ctx,
        desired,
        model=spec.model,
        found=world.routing,
        replies=world.replies,
        generation=generation,
    )


def write_status(
    ctx: Context, body: dict[str, Any], old: CanaryStatus, decision: Decision
) -> dict[str, Any]:
    """Status first, then what follows from it: events, ModelVersion serving, metrics."""
    patch = encoding.dump(decision.status, keep_none=True)
    written = cluster.patch_status(ctx.apis, resources.CANARIES, ctx.namespace, ctx.name, patch)
    faults.reach(faults.STATUS_WRITTEN, canary=ctx.name, step=decision.status.current_step)
    for event in decision.events:
        cluster.post_event(ctx.apis, body, event)
    mark_serving(ctx, old, decision.status)
    ctx.metrics.count_outcomes(str(body["spec"]["model"]), old, decision.status)
    return written


def mark_serving(ctx: Context, old: CanaryStatus, new: CanaryStatus) -> None:
    """Set status.serving on the ModelVersions whose role changed; lastServedAt once Ready."""
    before, after = statuses.roles(old), statuses.roles(new)
    changes = {name: statuses.NONE for name in before if name not in after}
    changes |= {name: role for name, role in after.items() if before.get(name) != role}
    became_ready = conditions.is_true(new.conditions, conditions.READY) and not conditions.is_true(
        old.conditions, conditions.READY
    )
    patches: dict[str, dict[str, Any]] = {name: {"serving": role} for name, role in changes.items()}
    if became_ready and new.stable_version:
        served = conditions.stamp(datetime.now(UTC))
        patches[new.stable_version] = {"serving": statuses.STABLE, "lastServedAt": served}
    for name, patch in patches.items():  # one write per ModelVersion
        patch_model_version(ctx, name, patch)


def patch_model_version(ctx: Context, name: str, status: dict[str, Any]) -> None:
    """In the background (the Canary's status, written, is the record; docs/scale.md)."""
    plural = resources.MODEL_VERSIONS
    cluster.patch_status_later(ctx.apis, plural, ctx.namespace, name, status)
