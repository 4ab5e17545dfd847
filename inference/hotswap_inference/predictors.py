"""What the service calls to predict: a plain sklearn predictor, or a verified fast path.

Both follow `Predictor`: a batch of inputs in, one label and one confidence per input out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Predictions:
    labels: list[str]
    confidences: list[float]  # probability of the predicted label
    probabilities: list[list[float]]  # per class, in `classes` order
    classes: list[str]


class Predictor(Protocol):
    kind: str  # "sklearn" for the plain pipeline; a fast path names itself

    def predict(self, inputs: Sequence[Any]) -> Predictions: ...


class SklearnPredictor:
    """The plain pipeline: `predict_proba` per call; always correct, the reference."""

    kind = "sklearn"

    def __init__(self, estimator: Any, labels: Sequence[str] | None = None) -> None:
        self.estimator = estimator
        classes = [str(c) for c in estimator.classes_]
        self.classes = list(labels) if labels else classes

    def predict(self, inputs: Sequence[Any]) -> Predictions:
        probabilities = self.estimator.predict_proba(list(inputs))
        best = probabilities.argmax(axis=1)
        return Predictions(
            labels=[self.classes[i] for i in best],
            confidences=[float(row[i]) for row, i in zip(probabilities, best, strict=True)],
            probabilities=probabilities.tolist(),
            classes=self.classes,
        )
