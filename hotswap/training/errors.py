"""Exceptions of training; each message names the file, line or field and the fix."""

from __future__ import annotations


class TrainingError(Exception):
    """Base class: anything training refuses."""


class DatasetError(TrainingError, ValueError):
    """A dataset file that is missing, malformed, too small or has a single class."""


class MissingExtra(TrainingError, ImportError):
    """An optional dependency (an extra of the hotswap distribution) is not installed."""
