"""Fixtures: a model volume with three small published versions (a real, tiny sklearn model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotswap.store import publishing
from hotswap.store.layout import ModelPaths
from tests.unit.store.conftest import MODEL, write_tiny_model


@pytest.fixture
def paths(root: Path) -> ModelPaths:
    return ModelPaths(root, MODEL)


@pytest.fixture
def three(root: Path) -> list[str]:
    """Three published, registered versions, oldest first."""
    return [publishing.publish_version(root, MODEL, write_tiny_model).version for _ in range(3)]
