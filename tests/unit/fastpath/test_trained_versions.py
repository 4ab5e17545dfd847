"""The models `hotswap train` publishes serve through the fast path once loaded from the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from hotswap_inference import accelerating

from hotswap.store import loading
from hotswap.training import training


@pytest.mark.parametrize("format", ["joblib", "skops"])
@pytest.mark.parametrize(
    ("estimator", "kind"), [("logreg", "linear-text"), ("random-forest", "forest")]
)
def test_trained_version_is_verified_and_fast(
    tmp_path: Path, estimator: str, kind: str, format: str
) -> None:
    result = training.train(tmp_path, "demo", estimator=estimator, seed=0, format=format)
    version = result.published.version
    loaded = loading.load_version(tmp_path, "demo", version)
    assert loaded.samples, "expected the version to store sample inputs"
    predictor, reason = accelerating.build_predictor(loaded)
    assert (predictor.kind, reason) == (kind, None)
