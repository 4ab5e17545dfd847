"""Retention: remove old versions on request, never one that serves or that an abort returns to.

Kept, whatever `keep` says (`hotswap gc`, docs/training.md):
- the stable and the canary of routing.json, and the version `current` points at;
- the `KEEP_SERVED` versions that were stable most recently (versions.json `served`, ranked by
  every routing.json write): the stable and the one before it, which an abort of a rollout in
  flight or an instant rollback returns to, although routing.json no longer names it.
Deciding and removing happen under the model lock, so no routing write comes in between.
"""

from __future__ import annotations

import shutil
import time

from hotswap.store import routes, switching, versions
from hotswap.store.errors import VersionInUse
from hotswap.store.layout import STAGING_PREFIX, ModelPaths
from hotswap.store.locking import model_lock

STALE_STAGING_SECONDS = 3600
KEEP_SERVED = 2


def protected_versions(paths: ModelPaths) -> set[str]:
    """Versions never removed: current, stable, canary and the most recently served."""
    keep = set(versions.recently_served(paths, KEEP_SERVED))
    current = switching.read_current(paths)
    if current:
        keep.add(current)
    routing = routes.read_routing(paths)
    if routing:
        keep.update(routing.versions)
    return keep


def remove_version(paths: ModelPaths, version: str) -> None:
    with model_lock(paths):
        if version in protected_versions(paths):
            raise VersionInUse(
                f"version {version} of {paths.model!r} is current, stable, canary or served "
                f"among the last {KEEP_SERVED} stables: route traffic away from it and serve "
                "another before removing it"
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
    with model_lock(paths):
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
