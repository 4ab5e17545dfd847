"""The linear text fast path agrees with plain sklearn, for many vectorizer configurations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hotswap_inference.fastpaths import linear_text
from hotswap_inference.predictors import SklearnPredictor
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline

from tests.unit.fastpath import corpora

VECTORIZERS = {
    "default": TfidfVectorizer,
    "training-default": lambda: TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
    "no-lowercase": lambda: TfidfVectorizer(lowercase=False),
    "token-pattern": lambda: TfidfVectorizer(token_pattern=r"(?u)\b\w+\b"),
    "trigrams": lambda: TfidfVectorizer(ngram_range=(1, 3)),
    "stop-words": lambda: TfidfVectorizer(stop_words=["the", "a", "my", "please"]),
    "max-features": lambda: TfidfVectorizer(max_features=12, min_df=2),
    "no-idf-l1": lambda: TfidfVectorizer(use_idf=False, norm="l1"),
    "no-norm": lambda: TfidfVectorizer(norm=None, smooth_idf=False),
    "binary": lambda: TfidfVectorizer(binary=True, sublinear_tf=True),
    "accents": lambda: TfidfVectorizer(strip_accents="unicode"),
    "char-wb": lambda: TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)),
    "counts": CountVectorizer,
}
CLASSIFIERS = {
    "multinomial": lambda: LogisticRegression(max_iter=1000),
    "one-vs-rest": lambda: OneVsRestClassifier(LogisticRegression(max_iter=1000)),
}


def assert_agree(estimator: Any, inputs: list[Any]) -> None:
    expected = SklearnPredictor(estimator).predict(inputs)
    seen = linear_text.compile_pipeline(estimator).predict(inputs)
    assert seen.labels == expected.labels, f"expected {expected.labels}, fast path {seen.labels}"
    gap = np.abs(np.asarray(seen.probabilities) - np.asarray(expected.probabilities)).max()
    assert gap <= 1e-6, f"probabilities differ by {gap} (allowed 1e-6)"
    assert seen.confidences == [max(row) for row in seen.probabilities]
    assert seen.classes == expected.classes


def many_inputs() -> list[str]:
    texts, _ = corpora.texts_and_labels(seed=7)
    return texts + corpora.hostile_texts()


@pytest.mark.parametrize("vectorizer", sorted(VECTORIZERS))
@pytest.mark.parametrize("classifier", sorted(CLASSIFIERS))
def test_fast_path_agrees_with_sklearn(vectorizer: str, classifier: str) -> None:
    estimator = corpora.fit_text(VECTORIZERS[vectorizer](), classifier=CLASSIFIERS[classifier]())
    assert_agree(estimator, many_inputs())


@pytest.mark.parametrize("classifier", sorted(CLASSIFIERS))
def test_binary_models_agree(classifier: str) -> None:
    estimator = corpora.fit_text(TfidfVectorizer(), classifier=CLASSIFIERS[classifier](), classes=2)
    assert_agree(estimator, many_inputs())


def test_counts_then_tfidf_transformer_agree() -> None:
    texts, labels = corpora.texts_and_labels()
    steps = [CountVectorizer(ngram_range=(1, 2)), TfidfTransformer(sublinear_tf=True)]
    estimator = Pipeline([("c", steps[0]), ("t", steps[1]), ("lr", LogisticRegression())])
    assert_agree(estimator.fit(texts, labels), many_inputs())


def test_one_text_at_a_time_agrees_with_a_batch() -> None:
    estimator = corpora.fit_text(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True))
    fast = linear_text.compile_pipeline(estimator)
    inputs = many_inputs()
    batch = fast.predict(inputs)
    singles = [fast.predict([text]).probabilities[0] for text in inputs]
    assert singles == batch.probabilities


def test_non_text_inputs_get_sklearn_own_answer() -> None:
    estimator = corpora.fit_text(TfidfVectorizer())
    fast = linear_text.compile_pipeline(estimator)
    with pytest.raises(AttributeError):  # sklearn's own error for a number, not a fast-path one
        fast.predict([42])
