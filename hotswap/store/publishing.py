"""Atomic publish: stage, fsync, manifest last, rename into place, fsync, register.

A version folder is visible under `versions/` only once it is whole; a publish that dies
midway leaves at most a `.staging-<id>` folder, which readers never list and retention removes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hotswap.store import files, manifests, names, versions
from hotswap.store.layout import ModelPaths

FORMATS = ("joblib", "skops")


@dataclass(frozen=True)
class Published:
    model: str
    version: str
    digest: str
    path: Path
    relative: str  # artifact path relative to the volume root
    format: str


def publish_version(
    root: Path,
    model: str,
    write: Callable[[Path], None],
    *,
    format: str = "joblib",
    metrics: Mapping[str, float] | None = None,
    version: str | None = None,
) -> Published:
    """Call `write(folder)` to fill a staging folder, then publish it atomically."""
    if format not in FORMATS:
        raise ValueError(f"format {format!r} is not one of {FORMATS}")
    paths = ModelPaths(root, model)
    version = names.check_version_id(version or names.new_version_id())
    stage = paths.staging(version)
    paths.versions.mkdir(parents=True, exist_ok=True)
    stage.mkdir()
    try:
        write(stage)
        manifest = _seal(stage, model=model, version=version)
        os.rename(stage, paths.version(version))
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    files.fsync_dir(paths.versions)
    record = versions.VersionRecord(
        version=version,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        digest=manifest.digest,
        format=format,
        metrics=dict(metrics or {}),
    )
    versions.register_version(paths, record)
    return Published(
        model, version, manifest.digest, paths.version(version), paths.relative(version), format
    )


def _seal(stage: Path, *, model: str, version: str) -> manifests.Manifest:
    """fsync every staged file, make it read-only, then write the manifest last."""
    for path in manifests.regular_files(stage):
        files.fsync_file(path)
        path.chmod(0o444)
    manifest = manifests.write_manifest(stage, model=model, version=version)
    (stage / manifests.MANIFEST).chmod(0o444)
    files.fsync_dir(stage)
    return manifest
