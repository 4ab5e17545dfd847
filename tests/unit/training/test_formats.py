"""skops artifacts of both estimators load via the store's trusted list and match joblib."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotswap.store import loading
from hotswap.training import training


@pytest.mark.parametrize(("estimator", "model"), [("logreg", "intent"), ("random-forest", "iris")])
def test_skops_round_trip_predicts_as_joblib(tmp_path: Path, estimator: str, model: str) -> None:
    loaded = {}
    for fmt in ("joblib", "skops"):
        result = training.train(tmp_path, model, estimator=estimator, format=fmt, seed=1)
        loaded[fmt] = loading.load_version(
            tmp_path, model, result.published.version, expected_digest=result.published.digest
        )
        assert loaded[fmt].format == fmt
    samples = loaded["skops"].samples
    assert samples == loaded["joblib"].samples
    expected = list(loaded["joblib"].estimator.predict(samples))
    seen = list(loaded["skops"].estimator.predict(samples))
    assert seen == expected, f"skops predicted {seen}, joblib {expected}"


def test_forest_samples_are_lists_of_floats(tmp_path: Path) -> None:
    result = training.train(tmp_path, "iris", estimator="random-forest")
    loaded = loading.load_version(tmp_path, "iris", result.published.version)
    assert all(len(row) == 4 and all(isinstance(x, float) for x in row) for row in loaded.samples)
    assert loaded.labels["labels"] == ["setosa", "versicolor", "virginica"]
