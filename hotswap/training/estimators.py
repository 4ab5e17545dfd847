"""The estimators `train` knows: their parameters, and the scikit-learn objects built from them.

`logreg`: TF-IDF over word 1-2 grams, then multinomial logistic regression, on text.
`random-forest`: a random forest on numeric rows (lists of floats).
"""

from __future__ import annotations

from typing import Any

PARAMS: dict[str, dict[str, Any]] = {
    "logreg": {
        "ngramRange": [1, 2],
        "sublinearTf": True,
        "C": 10.0,
        "maxIter": 1000,
    },
    "random-forest": {
        "nEstimators": 100,
        "maxDepth": None,
        "minSamplesLeaf": 1,
    },
}
INPUTS = {"logreg": "text", "random-forest": "numeric"}
ESTIMATORS = tuple(PARAMS)


def check_estimator(name: str) -> str:
    if name not in PARAMS:
        raise ValueError(f"estimator {name!r} is not one of {', '.join(ESTIMATORS)}")
    return name


def build_estimator(name: str, *, seed: int) -> Any:
    """A fresh, unfitted estimator; `seed` fixes every source of randomness in it."""
    params = PARAMS[check_estimator(name)]
    if name == "logreg":
        return _text_pipeline(params, seed)
    return _random_forest(params, seed)


def _text_pipeline(params: dict[str, Any], seed: int) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    vectorizer = TfidfVectorizer(
        ngram_range=tuple(params["ngramRange"]), sublinear_tf=params["sublinearTf"]
    )
    classifier = LogisticRegression(C=params["C"], max_iter=params["maxIter"], random_state=seed)
    return Pipeline([("tfidf", vectorizer), ("classifier", classifier)])


def _random_forest(params: dict[str, Any], seed: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=params["nEstimators"],
        max_depth=params["maxDepth"],
        min_samples_leaf=params["minSamplesLeaf"],
        random_state=seed,
        n_jobs=1,
    )
