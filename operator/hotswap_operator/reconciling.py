"""One reconcile of a Canary: observe, decide, actuate, then write status and events.

Level-based: every pass starts from what is (routing.json, pods, ModelVersions) and the last
status; killing the operator at any point and running this again converges.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hotswap_operator import (
    actuating,
    deciding,
    encoding,
    faults,
    observing,
    patching,
    serving,
    specs,
    statuses,
)
from hotswap_operator.contexts import Context
from hotswap_operator.decisions import Decision
from hotswap_operator.finding import CANARIES
from hotswap_operator.statuses import CanaryStatus

MAX_PASSES = 8


def reconcile_canary(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Passes until nothing moves (bounded); returns the body as last written."""
    started = time.perf_counter()
    spec = specs.parse_canary(body.get("spec"))
    status = statuses.parse_canary(body.get("status"))
    for _ in range(MAX_PASSES):
        status, written, busy = reconcile_once(ctx, body, spec, status)
        ctx.metrics.show_canary(ctx.name, spec.model, status)
        body = written or body
        if not busy:
            break
    ctx.metrics.reconcile.labels("Canary").observe(time.perf_counter() - started)
    return body


def reconcile_once(
    ctx: Context, body: dict[str, Any], spec: specs.CanarySpec, status: CanaryStatus
) -> tuple[CanaryStatus, dict[str, Any] | None, bool]:
    """One pass: the new status, the body written (if any), whether anything moved."""
    verdict, world = observing.observe(ctx, body, spec, status)
    decision = deciding.next_decision(spec, status, verdict, datetime.now(UTC))
    acted = False
    if decision.plan is not None:
        acted = actuating.actuate(
            ctx, spec, decision.plan, world=world, generation=status.routing_generation
        )
    new = decision.status
    if world.routing is not None:
        new = replace(new, routing_generation=world.routing.generation)
    written = None
    if new != status:
        written = write_status(ctx, body, status, Decision(new, decision.events))
    return new, written, acted or new != status


def write_status(
    ctx: Context, body: dict[str, Any], old: CanaryStatus, decision: Decision
) -> dict[str, Any]:
    """Status first, then what follows from it: events, ModelVersion serving, metrics."""
    patch = encoding.dump(decision.status, keep_none=True)
    written = patching.patch_status(ctx.apis, CANARIES, ctx.namespace, ctx.name, patch)
    faults.reach(faults.STATUS_WRITTEN, canary=ctx.name, step=decision.status.current_step)
    for event in decision.events:
        patching.post_event(ctx.apis, body, event)
    serving.mark_serving(ctx, old, decision.status)
    serving.count_outcomes(ctx, str(body["spec"]["model"]), old, decision.status)
    return written
