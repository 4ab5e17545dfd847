"""build_predictor: the fast path serves only when verified; otherwise sklearn, with a reason."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hotswap_inference import accelerating
from hotswap_inference.fastpaths import forests
from hotswap_inference.fastpaths.linear_text import LinearTextPredictor
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from hotswap.store.loading import LoadedVersion
from tests.unit.fastpath import corpora
from tests.unit.inference.compiled import skip_if_compiled


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
    skip_if_compiled(fast, "predict")
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


def count_comparisons(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The digests of the versions whose fast path is compared with sklearn, in order."""
    compared: list[str] = []
    real = accelerating._compared

    def counting(version: LoadedVersion, fast: Any, reference: Any) -> str | None:
        compared.append(version.digest)
        return real(version, fast, reference)

    monkeypatch.setattr(accelerating, "_compared", counting)
    return compared


def test_a_digest_verified_once_is_not_compared_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same digest: compared once, then built and served without comparing; another digest is
    compared; the predictor built the second time answers as the first."""
    from dataclasses import replace

    compared = count_comparisons(monkeypatch)
    verified = accelerating.Verified()
    version = text_version()
    first, _ = accelerating.build_predictor(version, verified=verified)
    again, reason = accelerating.build_predictor(version, verified=verified)
    other = replace(version, digest="1" * 64)
    accelerating.build_predictor(other, verified=verified)
    assert compared == [version.digest, other.digest], compared
    assert (again.kind, reason) == ("linear-text", None)
    inputs = [*version.samples, "a text never seen", ""]
    assert again.predict(inputs) == first.predict(inputs)
    accelerating.build_predictor(version)  # without the memo: compared every time
    assert compared == [version.digest, other.digest, version.digest], compared


def test_a_fallback_is_not_remembered_and_the_memo_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hotswap_inference.fastpaths import linear_text

    compared = count_comparisons(monkeypatch)
    real = linear_text.compile_pipeline
    monkeypatch.setattr(linear_text, "compile_pipeline", lambda e: broken_comparison(real(e)))
    verified = accelerating.Verified()
    version = text_version()
    for _ in range(2):
        predictor, reason = accelerating.build_predictor(version, verified=verified)
        assert predictor.kind == "sklearn" and reason and reason.startswith("failed"), reason
    assert compared == [version.digest] * 2, compared
    assert (version.digest, "linear-text") not in verified

    bounded = accelerating.Verified(size=2)
    for digest in "abc":
        bounded.add(digest * 64, "linear-text")
    kept = [d for d in "abc" if (d * 64, "linear-text") in bounded]
    assert kept == ["b", "c"], kept
    assert ("c" * 64, "forest") not in bounded, "a digest counts with its fast path's kind"


def test_a_pod_rolled_back_compares_only_the_versions_it_never_served(
    root: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One Reloader: first, second, first again (a rollback), second again: two comparisons,
    and every state serves the fast path."""
    from hotswap_inference.metrics import Metrics
    from hotswap_inference.reloading import Reloader
    from prometheus_client import CollectorRegistry

    from tests.unit.inference import models

    first, second = models.publish_text(root), models.publish_text(root, seed=1)
    compared = count_comparisons(monkeypatch)
    reloader = Reloader(root, models.MODEL, metrics=Metrics(CollectorRegistry()))
    for generation, published in enumerate([first, second, first, second], start=1):
        reloader.apply(models.write_routing(root, published, generation=generation))
        assert reloader.state is not None
        served = reloader.state.serving("stable")
        assert (served.version, served.kind) == (published.version, "linear-text")
    assert compared == [first.digest, second.digest], compared


@pytest.mark.parametrize(("kind", "runs"), [("linear-text", 1), ("forest", 2)])
def test_a_fast_path_computed_row_by_row_is_run_once_on_the_inputs(
    kind: str, runs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text fast path decides each text alone, so its batch is its single inputs: one run
    proves what two would. The forest's batch is one vectorized computation: batch and one by
    one, every input."""
    from hotswap_inference.fastpaths import verifying
    from sklearn.datasets import load_iris

    if kind == "forest":
        rows, target = load_iris(return_X_y=True)
        forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(rows, target)
        version = loaded(forest, rows[::10].tolist())
    else:
        version = text_version()
    skip_if_compiled(
        forests.ForestPredictor if kind == "forest" else LinearTextPredictor, "predict"
    )
    predicted: list[int] = []
    real = verifying.find_disagreement

    def counting(fast: Any, reference: Any, inputs: Any) -> str | None:
        own = fast.predict

        def predict(batch: Any) -> Any:
            predicted.append(len(batch))
            return own(batch)

        fast.predict = predict
        return real(fast, reference, inputs)

    monkeypatch.setattr(verifying, "find_disagreement", counting)
    predictor, reason = accelerating.build_predictor(version)
    assert (predictor.kind, reason) == (kind, None)
    inputs = predicted[0]
    assert sum(predicted) == runs * inputs, (predicted, runs)
