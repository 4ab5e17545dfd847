"""What the service calls to predict: a plain sklearn predictor, or a verified fast path.

Both follow `Predictor`: a batch of inputs in, one label and one confidence per input out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray


class Predictions(NamedTuple):
    """One answer's rows (a tuple: made per request, where a frozen dataclass's constructor
    set each field through `object.__setattr__`)."""

    labels: list[str]
    confidences: list[float]  # probability of the predicted label
    probabilities: list[list[float]]  # per class, in `classes` order
    classes: list[str]


class Predictor(Protocol):
    kind: str  # "sklearn" for the plain pipeline; a fast path names itself

    def predict(self, inputs: Sequence[Any]) -> Predictions: ...

    def predict_own(self, inputs: Sequence[Any]) -> Predictions | None:
        """The answer without any sklearn call, or None when the plain pipeline must answer."""
        ...


class Unsupported(Exception):
    """A model (or one of its options) that no fast path computes; the message names it."""


class SklearnPredictor:
    """The plain pipeline: `predict_proba` per call; always correct, the reference."""

    kind = "sklearn"

    def __init__(self, estimator: Any, labels: Sequence[str] | None = None) -> None:
        self.estimator = estimator
        classes = [str(c) for c in estimator.classes_]
        self.classes = list(labels) if labels else classes

    def predict(self, inputs: Sequence[Any]) -> Predictions:
        return predictions_from(self.estimator.predict_proba(list(inputs)), self.classes)

    def predict_own(self, inputs: Sequence[Any]) -> Predictions | None:
        return None  # every answer is an sklearn call


class FastPredictor:
    """A fast path: its own answer where it has one, else the plain pipeline's (`reference`)."""

    kind = "fast"
    row_by_row = False  # True: a batch is computed input by input, as single inputs are

    def __init__(self, *, reference: SklearnPredictor) -> None:
        self.reference = reference
        self.classes = reference.classes

    def predict(self, inputs: Sequence[Any]) -> Predictions:
        own = self.predict_own(inputs)
        return self.reference.predict(inputs) if own is None else own

    def predict_own(self, inputs: Sequence[Any]) -> Predictions | None:
        raise NotImplementedError


def predictions_from(probabilities: NDArray[np.float64], classes: list[str]) -> Predictions:
    """Labels and confidences from a (rows, classes) probability matrix: argmax per row."""
    return predictions_from_rows(probabilities.tolist(), classes)


def predictions_from_rows(rows: list[list[float]], classes: list[str]) -> Predictions:
    """The same from plain rows; the first of equal maxima wins, as numpy's argmax."""
    best = [row.index(max(row)) for row in rows]
    return Predictions(
        labels=[classes[i] for i in best],
        confidences=[row[i] for row, i in zip(rows, best, strict=True)],
        probabilities=rows,
        classes=classes,
    )
