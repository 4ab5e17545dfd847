"""Where things live on the model volume, and confinement of paths to it.

<root>/<model>/versions/<version>/   immutable once published
<root>/<model>/versions.json         the registry
<root>/<model>/current               relative symlink to versions/<version>
<root>/<model>/routing.json          stable, canary, weight, sticky key, mirror, generation
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hotswap.store import names
from hotswap.store.errors import PathEscape

VERSIONS = "versions"
REGISTRY = "versions.json"
CURRENT = "current"
ROUTING = "routing.json"
LOCK = ".lock"
STAGING_PREFIX = ".staging-"

# Files of a version folder (MANIFEST.json lives in `manifests`).
MODEL_FILES = {"joblib": "model.joblib", "skops": "model.skops"}
METRICS = "metrics.json"
LABELS = "label_mappings.json"
SAMPLES = "samples.json"


@dataclass(frozen=True)
class ModelPaths:
    """The paths of one model under a volume root."""

    root: Path
    model: str

    def __post_init__(self) -> None:
        names.check_model_name(self.model)

    @property
    def dir(self) -> Path:
        return self.root / self.model

    @property
    def versions(self) -> Path:
        return self.dir / VERSIONS

    @property
    def registry(self) -> Path:
        return self.dir / REGISTRY

    @property
    def current(self) -> Path:
        return self.dir / CURRENT

    @property
    def routing(self) -> Path:
        return self.dir / ROUTING

    @property
    def lock(self) -> Path:
        return self.dir / LOCK

    def version(self, version: str) -> Path:
        return self.versions / names.check_version_id(version)

    def staging(self, version: str) -> Path:
        return self.versions / f"{STAGING_PREFIX}{names.check_version_id(version)}"

    def relative(self, version: str) -> str:
        """A version folder relative to the volume root (a ModelVersion's artifact path)."""
        return f"{self.model}/{VERSIONS}/{names.check_version_id(version)}"


def confine(root: Path, relative: str) -> Path:
    """Resolve `relative` under `root`, refusing anything that could leave it.

    Refused: absolute paths, empty or NUL-bearing paths, `..` parts, and any path whose real
    location (after following symlinks) is not inside the real root.
    """
    if not isinstance(relative, str) or not relative or "\x00" in relative:
        raise PathEscape(f"path {relative!r} is empty or malformed: give a path below the root")
    if os.path.isabs(relative) or relative.startswith("~"):
        raise PathEscape(f"path {relative!r} is absolute: give it relative to the model root")
    parts = Path(relative).parts
    if ".." in parts or "\\" in relative:
        raise PathEscape(f"path {relative!r} climbs out of the model root: remove '..'")
    real_root = root.resolve()
    candidate = (real_root / relative).resolve()
    if candidate != real_root and real_root not in candidate.parents:
        raise PathEscape(f"path {relative!r} resolves outside the model root {root}")
    return candidate
