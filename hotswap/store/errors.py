"""Exceptions of the store contract; each message names the field or file and the fix."""

from __future__ import annotations


class StoreError(Exception):
    """Base class: anything the store refuses."""


class InvalidName(StoreError, ValueError):
    """A model name or version id that does not follow the naming rules."""


class PathEscape(StoreError):
    """A path that leaves the model root, is absolute, or goes through a symlink."""


class IntegrityError(StoreError):
    """A digest, manifest or file that does not match what was published."""


class VersionNotFound(StoreError, LookupError):
    """No published version with that id."""


class VersionInUse(StoreError):
    """A version that is current, stable or canary and so cannot be removed."""
