"""Retention: remove old versions on request, never one that serves or may serve."""

from __future__ import annotations

import shutil
import time

from hotswap.store import routes, switching, versions
from hotswap.store.errors import VersionInUse
from hotswap.store.layout import STAGING_PREFIX, ModelPaths

STALE_STAGING_SECONDS = 3600


def protected_versions(paths: ModelPaths) -> set[str]:
    """Versions that are current, stable or canary: never removed."""
    keep = set()
    current = switching.read_current(paths)
    if current:
        keep.add(current)
    routing = routes.read_routing(paths)
    if routing:
        keep.update(routing.versions)
    return keep


def remove_version(paths: ModelPaths, version: str) -> None:
    if version in protected_versions(paths):
        raise VersionInUse(
            f"version {version} of {paths.model!r} is current, stable or canary: "
            "route traffic away from it before removing it"
        )
    versions.unregister_version(paths, version)
    folder = paths.version(version)
    if folder.exists():
        folder.chmod(0o755)
        shutil.rmtree(folder)


def collect_garbage(paths: ModelPaths, *, keep: int) -> list[str]:
    """Remove all but the newest `keep` versions (protected ones always stay); stale stages too.

    Returns the removed version ids, oldest first.
    """
    doomed = select_garbage(paths, keep=keep)
    for version in doomed:
        remove_version(paths, version)
    _remove_stale_stages(paths)
    return doomed


def select_garbage(paths: ModelPaths, *, keep: int) -> list[str]:
    """The versions `collect_garbage` would remove, oldest first."""
    if keep < 1:
        raise ValueError("keep must be at least 1: the newest version always stays")
    protected = protected_versions(paths)
    registered = [r.version for r in versions.list_versions(paths)]
    return [v for v in registered[:-keep] if v not in protected]


def _remove_stale_stages(paths: ModelPaths) -> None:
    if not paths.versions.is_dir():
        return
    cutoff = time.time() - STALE_STAGING_SECONDS
    for entry in paths.versions.iterdir():
        if entry.name.startswith(STAGING_PREFIX) and entry.lstat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)
