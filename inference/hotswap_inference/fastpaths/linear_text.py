"""The direct computation of a linear-over-TF-IDF (or counts) text pipeline.

For each text: sklearn's own tokens, a dictionary lookup per distinct token, the tf-idf
weighting in plain Python and one numpy gather-and-dot over the few rows the text touches;
no validation, no sparse matrix. Inputs that are not all strings go to the plain pipeline,
errors included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.pipeline import Pipeline

from hotswap_inference import predictors
from hotswap_inference.fastpaths import linear_models, text_features
from hotswap_inference.predictors import Predictions, Unsupported


class LinearTextPredictor(predictors.FastPredictor):
    kind = "linear-text"
    row_by_row = True  # `predict_own` decides each text alone

    def __init__(
        self,
        features: text_features.TextFeatures,
        model: linear_models.LinearModel,
        *,
        reference: predictors.SklearnPredictor,
    ) -> None:
        super().__init__(reference=reference)
        self.features = features
        self.model = model

    def predict_own(self, inputs: Sequence[Any]) -> Predictions | None:
        """Without sklearn; None when an input is not a string (the plain pipeline answers)."""
        if not all(isinstance(text, str) for text in inputs):
            return None
        rows = [self.model.probabilities(self.decide(text)) for text in inputs]
        return predictors.predictions_from_rows(rows, self.classes)

    def decide(self, text: str) -> list[float]:
        """Decision values of one text: its weights dotted with the columns it touches."""
        indices, values = self.features.weights(text)
        rows = self.model.weights.take(indices, axis=0)
        decisions: NDArray[np.float64] = np.dot(values, rows)
        decisions += self.model.intercepts
        return decisions.tolist()  # type: ignore[no-any-return]


def compile_pipeline(estimator: Any) -> LinearTextPredictor:
    """The fast predictor for a text Pipeline, or Unsupported naming the step or option."""
    if type(estimator) is not Pipeline:
        raise Unsupported(f"model {type(estimator).__name__} is not a text Pipeline")
    steps = [step for _, step in estimator.steps if step not in (None, "passthrough")]
    if len(steps) not in (2, 3):
        raise Unsupported(f"text Pipeline of {len(steps)} steps (fast path: 2 or 3)")
    features = text_features.read_features(steps[0], steps[1] if len(steps) == 3 else None)
    model = linear_models.read_model(steps[-1])
    _check_sizes(features, model)
    return LinearTextPredictor(features, model, reference=predictors.SklearnPredictor(estimator))


def _check_sizes(features: text_features.TextFeatures, model: linear_models.LinearModel) -> None:
    if model.weights.shape[0] != len(features.vocabulary):
        raise Unsupported(
            f"classifier expects {model.weights.shape[0]} features, "
            f"vectorizer makes {len(features.vocabulary)}"
        )
