"""The linear head of a text pipeline: weights, intercepts and the probability link.

Reads a fitted LogisticRegression (binary or multinomial) or a OneVsRestClassifier over
LogisticRegression, and turns decision values into probabilities exactly as their
`predict_proba` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from hotswap_inference.predictors import Unsupported


@dataclass(frozen=True)
class LinearModel:
    weights: NDArray[np.float64]  # (features, outputs), rows gathered per text
    intercepts: NDArray[np.float64]  # (outputs,)
    link: str  # "binary", "softmax" or "ovr"
    classes: list[str]

    def probabilities(self, decisions: list[float]) -> list[float]:
        """Class probabilities from one row of decision values, as `predict_proba` gives them."""
        if self.link == "softmax":
            top = max(decisions)
            shifted = [math.exp(d - top) for d in decisions]
            total = sum(shifted)
            return [s / total for s in shifted]
        positive = [_expit(d) for d in decisions]
        if self.link == "binary":
            return [1.0 - positive[0], positive[0]]
        total = sum(positive)
        return [p / total for p in positive] if total else positive


def _expit(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    shifted = math.exp(value)
    return shifted / (1.0 + shifted)


def read_model(estimator: Any) -> LinearModel:
    """The linear head of `estimator`, or Unsupported naming why not."""
    if type(estimator) is LogisticRegression:
        return _from_logistic(estimator)
    if type(estimator) is OneVsRestClassifier:
        return _from_one_vs_rest(estimator)
    raise Unsupported(
        f"estimator {type(estimator).__name__} (fast path: LogisticRegression, "
        "OneVsRestClassifier(LogisticRegression), RandomForestClassifier)"
    )


def _from_logistic(model: LogisticRegression) -> LinearModel:
    # copies: the fast path never shares memory with the estimator it is checked against
    return LinearModel(
        weights=np.array(model.coef_.T, dtype=np.float64, order="C", copy=True),
        intercepts=np.array(model.intercept_, dtype=np.float64, copy=True).reshape(-1),
        link="binary" if len(model.classes_) <= 2 else "softmax",
        classes=[str(c) for c in model.classes_],
    )


def _from_one_vs_rest(model: Any) -> LinearModel:
    if model.multilabel_:
        raise Unsupported("OneVsRestClassifier option multilabel (fast path: multiclass only)")
    inner = [e for e in model.estimators_ if type(e) is not LogisticRegression]
    if inner:
        raise Unsupported(f"OneVsRestClassifier over {type(inner[0]).__name__}")
    heads = [_from_logistic(e) for e in model.estimators_]
    return LinearModel(
        weights=np.ascontiguousarray(np.hstack([h.weights for h in heads])),
        intercepts=np.concatenate([h.intercepts for h in heads]),
        link="binary" if len(heads) == 1 else "ovr",
        classes=[str(c) for c in model.classes_],
    )
