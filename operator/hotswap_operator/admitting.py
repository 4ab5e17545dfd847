"""One reconcile of a ModelVersion: verify it on the volume, say so in status, register it."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hotswap_operator import (
    conditions,
    encoding,
    errors,
    patching,
    reasons,
    specs,
    statuses,
    verifying,
)
from hotswap_operator.contexts import Context
from hotswap_operator.finding import MODEL_VERSIONS
from hotswap_operator.statuses import ModelVersionStatus

RETRY_SECONDS = 5.0


def reconcile_model_version(ctx: Context, body: dict[str, Any]) -> None:
    """Raises a retry while the files are not there yet; a refusal is final (spec immutable)."""
    started = time.perf_counter()
    generation = int(body["metadata"].get("generation") or 1)
    status = statuses.parse_model_version(body.get("status"))
    if status.observed_generation == generation and conditions.is_true(
        status.conditions, reasons.VERIFIED
    ):
        return
    outcome = check(ctx, body)
    now = datetime.now(UTC)
    new = status_for(status, outcome, now=now, generation=generation)
    if new != status:
        patch = encoding.dump(new, keep_none=False)
        patching.patch_status(ctx.apis, MODEL_VERSIONS, ctx.namespace, ctx.name, patch)
    ctx.metrics.reconcile.labels("ModelVersion").observe(time.perf_counter() - started)
    if outcome.retry:
        raise errors.wait_for(outcome.message, delay=RETRY_SECONDS)


def check(ctx: Context, body: dict[str, Any]) -> verifying.Outcome:
    try:
        spec = specs.parse_model_version(body.get("spec"))
    except ValueError as exc:
        return verifying.Outcome(False, reasons.INVALID_SPEC, str(exc))
    outcome = verifying.verify_version(ctx.config.model_root, spec)
    if outcome.verified:
        created = body["metadata"].get("creationTimestamp") or conditions.stamp(datetime.now(UTC))
        verifying.register(ctx.config.model_root, spec, created=str(created))
    if not outcome.retry:
        result = "Verified" if outcome.verified else "Rejected"
        ctx.metrics.retrains.labels(spec.model, result).inc()
    return outcome


def status_for(
    status: ModelVersionStatus, outcome: verifying.Outcome, *, now: datetime, generation: int
) -> ModelVersionStatus:
    found = status.conditions
    for kind in (reasons.VERIFIED, reasons.READY):
        reason = (
            outcome.reason
            if kind == reasons.VERIFIED or not outcome.verified
            else reasons.DIGEST_MATCHES
        )
        message = outcome.message if kind == reasons.VERIFIED else ready_message(outcome)
        found = conditions.set_condition(
            found,
            kind,
            outcome.verified,
            reason=reason,
            message=message,
            now=now,
            generation=generation,
        )
    return replace(
        status,
        observed_generation=generation,
        conditions=found,
        serving=status.serving or statuses.NONE,
        verified_digest=outcome.digest or status.verified_digest,
    )


def ready_message(outcome: verifying.Outcome) -> str:
    if outcome.verified:
        return "verified: a Canary can serve it"
    return f"cannot serve until verified: {outcome.message}"
