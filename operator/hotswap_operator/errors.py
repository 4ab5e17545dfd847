"""The retry vocabulary of the operator, in one place: kopf's errors, raised from here only."""

from __future__ import annotations

import kopf


class WaitForWorld(kopf.TemporaryError):
    """Something outside the spec is not there yet (files, pods, a ModelVersion): retry."""

    def __init__(self, message: str, *, delay: float = 5.0) -> None:
        super().__init__(message, delay=delay)


class SpecCannotWork(kopf.PermanentError):
    """A spec that can never work as written: the status says why; no retry."""


def wait_for(message: str, *, delay: float = 5.0) -> WaitForWorld:
    return WaitForWorld(message, delay=delay)


def cannot_work(message: str) -> SpecCannotWork:
    return SpecCannotWork(message)
