"""Builds the predictor a loaded version serves with: a verified fast path, else sklearn."""

from __future__ import annotations

from hotswap.store.loading import LoadedVersion
from hotswap_inference.predictors import Predictor, SklearnPredictor


def build_predictor(loaded: LoadedVersion) -> tuple[Predictor, str | None]:
    """The predictor for `loaded`, and why the fast path was not used (None when it was)."""
    return SklearnPredictor(loaded.estimator), "no fast path implemented yet"
