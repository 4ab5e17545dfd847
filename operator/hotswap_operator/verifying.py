"""The ModelVersion reconciler: verify a ModelVersion where the store keeps it (the volume, or a
bucket: files present, digest as declared, format known; every file hashed, never a model
loaded), say so in its status, and register it in the store's registry.

A version whose files are not there yet raises `FilesMissing` after writing its status; the
handler turns that into kopf's retry. A refusal is final: the spec is immutable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from hotswap import resources
from hotswap.store import backends, layout, versions
from hotswap.store.buckets import Unavailable
from hotswap.store.errors import IntegrityError, PathEscape, StoreError, VersionNotFound
from hotswap_operator import cluster, conditions, encoding, specs, statuses
from hotswap_operator.runtimes import Context
from hotswap_operator.specs import ModelVersionSpec
from hotswap_operator.statuses import ModelVersionStatus

RETRY_SECONDS = 5.0


class FilesMissing(Exception):
    """The version's files are not on the volume yet: worth trying again in RETRY_SECONDS."""


@dataclass(frozen=True)
class Outcome:
    verified: bool
    reason: str
    message: str
    retry: bool = False  # worth trying again later (files may still arrive)
    digest: str | None = None  # the digest verified, when verified


def verify_version(store: backends.Backend, spec: ModelVersionSpec) -> Outcome:
    """Hash every file of the version where the store keeps it (downloaded into the local cache
    first for a bucket); never a model loaded."""
    try:
        manifest = store.verify(spec.artifact_path, spec.digest)
    except (StoreError, OSError) as exc:
        return refusal(spec, exc)
    expected_file = layout.MODEL_FILES[spec.format]
    if expected_file not in manifest.files:
        message = f"spec.format is {spec.format} but the version holds no {expected_file}"
        return Outcome(False, conditions.FORMAT_MISMATCH, message)
    message = f"every file matches {spec.digest}"
    return Outcome(True, conditions.DIGEST_MATCHES, message, digest=spec.digest)


def refusal(spec: ModelVersionSpec, exc: Exception) -> Outcome:
    """Why a version did not verify; files not there yet, or a store that is down, are retried
    (never a rejection for that)."""
    if isinstance(exc, PathEscape):
        return Outcome(False, conditions.INVALID_SPEC, f"spec.artifactPath: {exc}")
    if isinstance(exc, VersionNotFound | Unavailable):
        return Outcome(False, conditions.ARTIFACT_MISSING, str(exc), retry=True)
    if isinstance(exc, IntegrityError):
        digest = "digest mismatch" in str(exc)
        reason = conditions.DIGEST_MISMATCH if digest else conditions.ARTIFACT_CORRUPT
        return Outcome(False, reason, str(exc))
    return Outcome(False, conditions.ARTIFACT_CORRUPT, f"{spec.artifact_path}: {exc}")


def register(store: backends.Backend, spec: ModelVersionSpec, *, created: str) -> None:
    """Keep the registry in step: add the verified version when the registry lacks it."""
    known = {r.version: r for r in store.list_versions(spec.model)}.get(spec.version)
    if known is not None and known.digest == spec.digest:
        return
    metrics = {
        k: v
        for k, v in (("accuracy", spec.metrics.accuracy), ("macroF1", spec.metrics.macro_f1))
        if v is not None
    }
    record = versions.VersionRecord(
        version=spec.version,
        created=created,
        digest=spec.digest,
        format=spec.format,
        metrics=metrics,
    )
    store.register(spec.model, record)


def reconcile_model_version(ctx: Context, body: dict[str, Any]) -> None:
    """Raises FilesMissing while the files are not there yet; a refusal is final (the spec is
    immutable)."""
    started = time.perf_counter()
    generation = int(body["metadata"].get("generation") or 1)
    status = statuses.parse_model_version(body.get("status"))
    if status.observed_generation == generation and conditions.is_true(
        status.conditions, conditions.VERIFIED
    ):
        return
    outcome = check(ctx, body)
    now = datetime.now(UTC)
    new = status_for(status, outcome, now=now, generation=generation)
    if new != status:
        patch = encoding.dump(new, keep_none=False)
        cluster.patch_status(ctx.apis, resources.MODEL_VERSIONS, ctx.namespace, ctx.name, patch)
    ctx.metrics.reconcile.labels("ModelVersion").observe(time.perf_counter() - started)
    if outcome.retry:
        raise FilesMissing(outcome.message)


def check(ctx: Context, body: dict[str, Any]) -> Outcome:
    try:
        spec = specs.parse_model_version(body.get("spec"))
    except ValueError as exc:
        return Outcome(False, conditions.INVALID_SPEC, str(exc))
    outcome = verify_version(ctx.store, spec)
    if outcome.verified:
        created = body["metadata"].get("creationTimestamp") or conditions.stamp(datetime.now(UTC))
        register(ctx.store, spec, created=str(created))
    if not outcome.retry:
        result = "Verified" if outcome.verified else "Rejected"
        ctx.metrics.retrains.labels(spec.model, result).inc()
    return outcome


def status_for(
    status: ModelVersionStatus, outcome: Outcome, *, now: datetime, generation: int
) -> ModelVersionStatus:
    found = status.conditions
    for kind in (conditions.VERIFIED, conditions.READY):
        reason = (
            outcome.reason
            if kind == conditions.VERIFIED or not outcome.verified
            else conditions.DIGEST_MATCHES
        )
        message = outcome.message if kind == conditions.VERIFIED else ready_message(outcome)
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


def ready_message(outcome: Outcome) -> str:
    if outcome.verified:
        return "verified: a Canary can serve it"
    return f"cannot serve until verified: {outcome.message}"
