"""The `current` symlink: which version serves as stable; switched atomically."""

from __future__ import annotations

import os

from hotswap.store import files, names
from hotswap.store.errors import IntegrityError, VersionNotFound
from hotswap.store.layout import VERSIONS, ModelPaths


def switch_current(paths: ModelPaths, version: str) -> None:
    """Point `current` at a published version (relative link, temp + os.replace, fsync)."""
    if not paths.version(version).is_dir():
        raise VersionNotFound(f"model {paths.model!r} has no published version {version!r}")
    files.replace_symlink(paths.current, f"{VERSIONS}/{version}")


def read_current(paths: ModelPaths) -> str | None:
    """The version `current` points at, or None before the first switch."""
    try:
        target = os.readlink(paths.current)
    except FileNotFoundError:
        return None
    head, _, version = target.partition("/")
    if head != VERSIONS or "/" in version:
        raise IntegrityError(f"{paths.current} points at {target!r}, not at {VERSIONS}/<id>")
    return names.check_version_id(version)
