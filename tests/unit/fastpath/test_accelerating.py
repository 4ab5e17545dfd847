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


def broken_comparison(fast: Any) -> Any:
    """A fast path whose answers have one probability column too few: comparing them raises."""
    from hotswap_inference.predictors import Predictions

    real = fast.predict

    def predict(inputs: Any) -> Predictions:
        seen = real(inputs)
        return Predictions(
            seen.labels, seen.confidences, [row[:-1] for row in seen.probabilities], seen.classes
        )

    fast.predict = predict
    return fast


def test_an_exception_while_comparing_falls_back_to_sklearn(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from hotswap_inference.fastpaths import linear_text

    real = linear_text.compile_pipeline
    monkeypatch.setattr(linear_text, "compile_pipeline", lambda e: broken_comparison(real(e)))
    with caplog.at_level(logging.WARNING, logger=accelerating.__name__):
        predictor, reason = accelerating.build_predictor(text_version())
    assert predictor.kind == "sklearn"
    assert reason is not None and reason.startswith("failed: comparing"), reason
    assert accelerating.fallback_kind(reason) == "failed"
    assert "ValueError" in reason and reason in caplog.text, (reason, caplog.text)


def test_a_fallback_is_counted_once_per_loaded_version(
    root: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hotswap_fastpath_fallbacks_total{fallback="failed"} rises when the comparison raises;
    the same reload with a working fast path counts nothing."""
    from hotswap_inference.fastpaths import linear_text
    from hotswap_inference.metrics import Metrics
    from hotswap_inference.reloading import Reloader
    from prometheus_client import CollectorRegistry

    from tests.unit.inference import models

    def fallbacks(registry: CollectorRegistry, kind: str) -> float:
        labels = {"model": models.MODEL, "fallback": kind}
        return registry.get_sample_value("hotswap_fastpath_fallbacks_total", labels) or 0.0

    first, second = models.publish_text(root), models.publish_text(root, seed=1)
    verified = CollectorRegistry()
    Reloader(root, models.MODEL, metrics=Metrics(verified)).apply(
        models.write_routing(root, first, generation=1)
    )
    assert fallbacks(verified, "failed") == 0.0

    real = linear_text.compile_pipeline
    monkeypatch.setattr(linear_text, "compile_pipeline", lambda e: broken_comparison(real(e)))
    registry = CollectorRegistry()
    reloader = Reloader(root, models.MODEL, metrics=Metrics(registry))
    reloader.apply(models.write_routing(root, first, generation=1))
    assert fallbacks(registry, "failed") == 1.0
    assert reloader.state is not None and reloader.state.serving("stable").kind == "sklearn"
    reloader.apply(models.write_routing(root, first, second, weight=10, generation=2))
    assert fallbacks(registry, "failed") == 2.0, "the new canary version falls back once more"
