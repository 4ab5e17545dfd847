"""What follows a Canary's status change: ModelVersion status.serving, and the metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubernetes.client import ApiException

from hotswap_operator import conditions, patching, reasons
from hotswap_operator.contexts import Context
from hotswap_operator.finding import MODEL_VERSIONS
from hotswap_operator.statuses import CANARY, NONE, STABLE, CanaryStatus


def roles(status: CanaryStatus) -> dict[str, str]:
    found = {}
    if status.stable_version:
        found[status.stable_version] = STABLE
    if status.canary_version:
        found[status.canary_version] = CANARY
    return found


def mark_serving(ctx: Context, old: CanaryStatus, new: CanaryStatus) -> None:
    """Set status.serving on the ModelVersions whose role changed; lastServedAt once Ready."""
    before, after = roles(old), roles(new)
    changes = {name: NONE for name in before if name not in after}
    changes |= {name: role for name, role in after.items() if before.get(name) != role}
    became_ready = conditions.is_true(new.conditions, reasons.READY) and not conditions.is_true(
        old.conditions, reasons.READY
    )
    for name, role in changes.items():
        patch_model_version(ctx, name, {"serving": role})
    if became_ready and new.stable_version:
        served = conditions.stamp(datetime.now(UTC))
        patch_model_version(ctx, new.stable_version, {"serving": STABLE, "lastServedAt": served})


def patch_model_version(ctx: Context, name: str, status: dict[str, Any]) -> None:
    try:
        patching.patch_status(ctx.apis, MODEL_VERSIONS, ctx.namespace, name, status)
    except ApiException as exc:
        if exc.status != 404:
            raise


def count_outcomes(ctx: Context, model: str, old: CanaryStatus, new: CanaryStatus) -> None:
    for entry in (e for e in new.history if e not in old.history):
        ctx.metrics.deploys.labels(model, entry.kind, entry.outcome).inc()
        ctx.metrics.model_deploys.labels(model, entry.kind, entry.outcome).inc()
    if new.last_analysis and new.last_analysis != old.last_analysis:
        analysis = new.last_analysis
        ctx.metrics.verdicts.labels(model, analysis.kind, analysis.verdict).inc()
    for name, role in roles(old).items():
        if roles(new).get(name) != role:
            ctx.metrics.current.remove(model, name, role)
    for name, role in roles(new).items():
        ctx.metrics.current.labels(model, name, role).set(1)
