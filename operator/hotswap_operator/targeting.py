"""The ModelVersion a Canary names, as the decision sees it: missing, pending, rejected or
verified (and whether it served before, which makes pointing at it a rollback)."""

from __future__ import annotations

from typing import Any

from hotswap.store import layout, manifests
from hotswap.store.errors import StoreError
from hotswap_operator import conditions, encoding, reasons, specs
from hotswap_operator.contexts import Context
from hotswap_operator.specs import CanarySpec
from hotswap_operator.statuses import PROMOTED, CanaryStatus, Condition
from hotswap_operator.verdicts import MISSING, PENDING, REJECTED, VERIFIED, Target


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
    found = conditions.find(
        [c for c in map(condition_of, mv_status.get("conditions") or []) if c], reasons.VERIFIED
    )
    if found is None or (
        found.status != conditions.TRUE and found.reason == reasons.ARTIFACT_MISSING
    ):
        why = found.message if found else "the operator has not verified it yet"
        return Target(name, PENDING, f"ModelVersion {name} is not verified: {why}")
    if found.status != conditions.TRUE:
        return Target(
            name,
            REJECTED,
            f"ModelVersion {name} failed verification ({found.reason}): {found.message}",
        )
    try:
        folder = layout.confine(ctx.config.model_root, mv_spec.artifact_path)
        manifests.verify_listing(folder, mv_spec.digest)
    except (StoreError, OSError) as exc:
        return Target(
            name, REJECTED, f"ModelVersion {name} is no longer intact on the volume: {exc}"
        )
    served = bool(mv_status.get("lastServedAt")) or any(
        e.version == name and e.outcome == PROMOTED for e in status.history
    )
    return Target(name, VERIFIED, f"ModelVersion {name} is verified", served_before=served)


def condition_of(raw: Any) -> Condition | None:
    try:
        return encoding.load(Condition, raw, where="condition")
    except ValueError:
        return None
