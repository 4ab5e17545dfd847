"""build_predictor: the fast path serves only when verified; otherwise sklearn, with a reason."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hotswap_inference import accelerating
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from hotswap.store.loading import LoadedVersion
from tests.unit.fastpath import corpora


def loaded(estimator: Any, samples: list[Any]) -> LoadedVersion:
    return LoadedVersion(
        model="intents",
        version="20261128_142501_3f9c1a2b",
        digest="0" * 64,
        format="joblib",
        estimator=estimator,
        samples=samples,
    )


def text_version(vectorizer: Any = None, classifier: Any = None) -> LoadedVersion:
    estimator = corpora.fit_text(vectorizer or TfidfVectorizer(), classifier=classifier)
    return loaded(estimator, corpora.texts_and_labels(per_class=3)[0])


def test_default_text_model_serves_through_the_fast_path() -> None:
    predictor, reason = accelerating.build_predictor(
        text_version(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True))
    )
    assert (predictor.kind, reason) == ("linear-text", None)


def test_random_forest_serves_through_the_fast_path() -> None:
    from sklearn.datasets import load_iris

    rows, target = load_iris(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(rows, target)
    predictor, reason = accelerating.build_predictor(loaded(forest, rows[::10].tolist()))
    assert (predictor.kind, reason) == ("forest", None)


@pytest.mark.parametrize(
    ("vectorizer", "classifier", "named"),
    [
        (HashingVectorizer(n_features=256), None, "HashingVectorizer"),
        (TfidfVectorizer(), LinearSVC(), "LinearSVC"),
        (TfidfVectorizer(), GradientBoostingClassifier(n_estimators=2), "Gradient"),
    ],
)
def test_unsupported_steps_fall_back_naming_them(
    vectorizer: Any, classifier: Any, named: str
) -> None:
    predictor, reason = accelerating.build_predictor(text_version(vectorizer, classifier))
    assert predictor.kind == "sklearn"
    assert reason is not None and reason.startswith("unsupported:") and named in reason, reason


def test_unsupported_option_falls_back_naming_it() -> None:
    import numpy as np

    predictor, reason = accelerating.build_predictor(
        text_version(TfidfVectorizer(dtype=np.float32))
    )
    assert predictor.kind == "sklearn"
    assert reason is not None and "dtype=float32" in reason, reason


def test_an_estimator_that_is_no_pipeline_falls_back() -> None:
    rows, labels = [[0.0], [1.0], [2.0], [3.0]], ["a", "a", "b", "b"]
    version = loaded(LogisticRegression().fit(rows, labels), rows)
    predictor, reason = accelerating.build_predictor(version)
    assert predictor.kind == "sklearn"
    assert reason is not None and "LogisticRegression" in reason, reason


def test_a_tampered_fast_path_is_rejected_and_sklearn_serves(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from hotswap_inference.fastpaths import linear_text

    real = linear_text.compile_pipeline

    def tampered(estimator: Any) -> Any:
        fast = real(estimator)
        fast.model.weights[:, 0] += 1e-3  # one class's coefficients drift a little
        return fast

    monkeypatch.setattr(linear_text, "compile_pipeline", tampered)
    with caplog.at_level(logging.WARNING, logger=accelerating.__name__):
        predictor, reason = accelerating.build_predictor(text_version())
    assert predictor.kind == "sklearn"
    assert reason is not None and reason.startswith("disagrees: probabilities differ"), reason
    assert reason in caplog.text, f"expected the reason in the log, saw {caplog.text!r}"


def test_samples_sklearn_rejects_make_a_fallback() -> None:
    version = text_version()
    version = loaded(version.estimator, [{"text": "hello"}])
    predictor, reason = accelerating.build_predictor(version)
    assert predictor.kind == "sklearn"
    assert reason is not None and "sklearn rejects the sample inputs" in reason, reason


def test_fallback_kinds_are_bounded() -> None:
    assert accelerating.fallback_kind("disagrees: label differs") == "disagrees"
    assert accelerating.fallback_kind("something new") == "failed"
