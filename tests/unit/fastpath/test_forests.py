"""The random forest fast path agrees with plain sklearn, on the splits' edges too."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hotswap_inference.fastpaths import forests, probes
from hotswap_inference.predictors import SklearnPredictor
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.ensemble import RandomForestClassifier

DATASETS = {"iris": load_iris, "wine": load_wine, "breast-cancer": load_breast_cancer}


def fit_forest(name: str, **options: Any) -> tuple[RandomForestClassifier, list[list[float]]]:
    rows, target = DATASETS[name](return_X_y=True)
    names = np.asarray([f"class-{t}" for t in target])
    forest = RandomForestClassifier(n_estimators=25, random_state=0, **options)
    return forest.fit(rows, names), rows.tolist()


def assert_agree(forest: RandomForestClassifier, rows: list[Any]) -> None:
    expected = SklearnPredictor(forest).predict(rows)
    seen = forests.compile_forest(forest).predict(rows)
    assert seen.labels == expected.labels, f"expected {expected.labels}, fast path {seen.labels}"
    gap = np.abs(np.asarray(seen.probabilities) - np.asarray(expected.probabilities)).max()
    assert gap <= 1e-6, f"probabilities differ by {gap} (allowed 1e-6)"
    assert seen.classes == expected.classes


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_forest_agrees_on_the_data(dataset: str) -> None:
    forest, rows = fit_forest(dataset)
    assert_agree(forest, rows)


@pytest.mark.parametrize(
    "options", [{"max_depth": 3}, {"min_samples_leaf": 5}, {"bootstrap": False}]
)
def test_forest_options_agree(options: dict[str, Any]) -> None:
    forest, rows = fit_forest("wine", **options)
    assert_agree(forest, rows)


def test_forest_agrees_on_and_beside_every_threshold() -> None:
    forest, _ = fit_forest("breast-cancer")
    edges = probes.forest_probes(forests.compile_forest(forest).forest, count=300)
    assert_agree(forest, edges)


def test_one_row_agrees_and_odd_rows_get_sklearn_own_answer() -> None:
    forest, rows = fit_forest("iris")
    fast = forests.compile_forest(forest)
    assert fast.predict(rows[:1]).probabilities == fast.predict(rows[:3]).probabilities[:1]
    with pytest.raises(ValueError, match="4 features"):  # sklearn's own message, passed on
        fast.predict([[1.0, 2.0]])


def test_rows_with_nan_are_answered_by_sklearn() -> None:
    forest, rows = fit_forest("iris")
    holed = [[float("nan"), *rows[0][1:]]]
    assert forests.compile_forest(forest).predict(holed) == SklearnPredictor(forest).predict(holed)
