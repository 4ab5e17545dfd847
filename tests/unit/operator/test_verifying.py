"""Verifying a ModelVersion against the volume through the store: never loading a model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hotswap_operator import conditions, specs, verifying

from hotswap.store import layout, publishing, versions
from hotswap.store.backends import VolumeBackend


def publish(root: Path) -> specs.ModelVersionSpec:
    def write(stage: Path) -> None:
        (stage / "model.joblib").write_bytes(b"not even a pickle: the operator never loads it")
        (stage / "metrics.json").write_text('{"accuracy": 0.9}')

    published = publishing.publish_version(root, "intent", write)
    return specs.ModelVersionSpec(
        model="intent",
        version=published.version,
        artifact_path=published.relative,
        digest=published.digest,
        format="joblib",
    )


def test_a_published_version_verifies(tmp_path: Path) -> None:
    outcome = verifying.verify_version(VolumeBackend(tmp_path), publish(tmp_path))
    assert (outcome.verified, outcome.reason) == (True, conditions.DIGEST_MATCHES), outcome


def test_a_wrong_digest_is_a_mismatch(tmp_path: Path) -> None:
    spec = replace(publish(tmp_path), digest="sha256:" + "0" * 64)
    outcome = verifying.verify_version(VolumeBackend(tmp_path), spec)
    assert (outcome.verified, outcome.reason, outcome.retry) == (
        False,
        conditions.DIGEST_MISMATCH,
        False,
    )


def test_a_changed_file_is_corrupt(tmp_path: Path) -> None:
    spec = publish(tmp_path)
    model_file = tmp_path / spec.artifact_path / "model.joblib"
    model_file.chmod(0o644)
    model_file.write_bytes(b"tampered")
    outcome = verifying.verify_version(VolumeBackend(tmp_path), spec)
    assert (outcome.verified, outcome.reason) == (False, conditions.ARTIFACT_CORRUPT), outcome


def test_a_missing_folder_is_retried(tmp_path: Path) -> None:
    spec = replace(publish(tmp_path), artifact_path="intent/versions/20261128_000000_00000000")
    outcome = verifying.verify_version(VolumeBackend(tmp_path), spec)
    assert (outcome.reason, outcome.retry) == (conditions.ARTIFACT_MISSING, True), outcome


def test_a_format_without_its_file_is_refused(tmp_path: Path) -> None:
    outcome = verifying.verify_version(
        VolumeBackend(tmp_path), replace(publish(tmp_path), format="skops")
    )
    assert outcome.reason == conditions.FORMAT_MISMATCH, outcome


def test_register_adds_a_missing_record(tmp_path: Path) -> None:
    spec = publish(tmp_path)
    paths = layout.ModelPaths(tmp_path, "intent")
    versions.unregister_version(paths, spec.version)
    verifying.register(VolumeBackend(tmp_path), spec, created="2026-11-28T00:00:00Z")
    assert versions.get_version(paths, spec.version).digest == spec.digest
