"""Tests that patch a method see their patch only where its class runs interpreted.

In the native tier (`make test-native`) a class compiled by mypyc refuses a patched instance
method, and its compiled callers call the compiled method directly, past a patch of the class.
A test that patches one is skipped there, saying so; `make test-unit` runs it interpreted.
"""

from __future__ import annotations

import importlib
from importlib.machinery import EXTENSION_SUFFIXES

import pytest


def is_compiled(module: str) -> bool:
    """Whether `module` (imported here if it is not yet) loads from a compiled extension."""
    return str(importlib.import_module(module).__file__).endswith(tuple(EXTENSION_SUFFIXES))


def skip_if_compiled(target: object, name: str) -> None:
    """Skip the calling test when `target` (a class, or an instance of one) is compiled."""
    owner = target if isinstance(target, type) else type(target)
    if is_compiled(owner.__module__):
        pytest.skip(
            f"patches {owner.__name__}.{name}, compiled in this tier: the interpreted tier runs it"
        )
