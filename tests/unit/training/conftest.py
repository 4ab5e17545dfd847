"""Shared fixtures: one default-trained intent version per module (training is read-only here)."""

from __future__ import annotations

import pytest

from hotswap.training import training


@pytest.fixture(scope="module")
def intent(tmp_path_factory: pytest.TempPathFactory) -> training.TrainResult:
    """The shipped intent data, default estimator and seed, published to a fresh root."""
    return training.train(tmp_path_factory.mktemp("models"), "intent")
