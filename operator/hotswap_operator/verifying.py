"""Verify a ModelVersion against the volume: files present, digest as declared, format known.

Hashes every file through the store (`manifests.verify_folder`); never loads a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hotswap.store import layout, manifests, versions
from hotswap.store.errors import IntegrityError, PathEscape, StoreError
from hotswap_operator import reasons
from hotswap_operator.specs import ModelVersionSpec


@dataclass(frozen=True)
class Outcome:
    verified: bool
    reason: str
    message: str
    retry: bool = False  # worth trying again later (files may still arrive)
    digest: str | None = None  # the digest verified, when verified


def verify_version(root: Path, spec: ModelVersionSpec) -> Outcome:
    try:
        folder = layout.confine(root, spec.artifact_path)
    except PathEscape as exc:
        return Outcome(False, reasons.INVALID_SPEC, f"spec.artifactPath: {exc}")
    if not (folder / manifests.MANIFEST).is_file():
        message = f"{spec.artifact_path}/{manifests.MANIFEST} is not on the volume at {root}"
        return Outcome(False, reasons.ARTIFACT_MISSING, message, retry=True)
    return check_folder(folder, spec)


def check_folder(folder: Path, spec: ModelVersionSpec) -> Outcome:
    try:
        manifest = manifests.verify_folder(folder, spec.digest)
    except IntegrityError as exc:
        reason = (
            reasons.DIGEST_MISMATCH if "digest mismatch" in str(exc) else reasons.ARTIFACT_CORRUPT
        )
        return Outcome(False, reason, str(exc))
    except (StoreError, OSError) as exc:
        return Outcome(False, reasons.ARTIFACT_CORRUPT, f"{spec.artifact_path}: {exc}")
    expected_file = layout.MODEL_FILES[spec.format]
    if expected_file not in manifest.files:
        message = f"spec.format is {spec.format} but the version holds no {expected_file}"
        return Outcome(False, reasons.FORMAT_MISMATCH, message)
    message = f"every file matches {spec.digest}"
    return Outcome(True, reasons.DIGEST_MATCHES, message, digest=spec.digest)


def register(root: Path, spec: ModelVersionSpec, *, created: str) -> None:
    """Keep versions.json in step: add the verified version when the registry lacks it."""
    paths = layout.ModelPaths(root, spec.model)
    try:
        known = versions.get_version(paths, spec.version)
    except StoreError:
        known = None
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
    versions.register_version(paths, record)
