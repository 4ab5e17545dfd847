"""The check a fast predictor passes before it serves: it agrees with plain sklearn.

Run on the version's stored samples plus probes built from the model itself, once as one
batch and once input by input: labels must be equal and probabilities within `TOLERANCE`.
A fast path that computes a batch input by input (`row_by_row`) is run as one batch only:
the second run would repeat the same computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hotswap_inference.predictors import Predictions, Predictor

TOLERANCE = 1e-6


def find_disagreement(fast: Predictor, reference: Predictor, inputs: Sequence[Any]) -> str | None:
    """Why `fast` may not serve (the first disagreement found), or None when it agrees."""
    if not inputs:
        return "no sample inputs to verify the fast path against"
    try:
        expected = reference.predict(inputs)
    except Exception as error:  # the samples themselves are bad: nothing to compare
        return f"sklearn rejects the sample inputs: {type(error).__name__}: {error}"
    try:
        batch = fast.predict(inputs)
        singles = None if row_by_row(fast) else [fast.predict([one]) for one in inputs]
    except Exception as error:
        return f"fast path {fast.kind} failed on the samples: {type(error).__name__}: {error}"
    found = _compare(expected, batch, inputs, how="as one batch")
    if found or singles is None:
        return found
    return _compare(expected, _joined(singles), inputs, how="one at a time")


def row_by_row(fast: Predictor) -> bool:
    return bool(getattr(fast, "row_by_row", False))


def _compare(
    expected: Predictions, seen: Predictions, inputs: Sequence[Any], *, how: str
) -> str | None:
    if len(seen.labels) != len(expected.labels):
        return f"fast path answers {len(seen.labels)} rows {how} for {len(expected.labels)} inputs"
    if seen.classes != expected.classes:
        return f"classes differ {how}: expected {expected.classes}, fast path {seen.classes}"
    for i, (want, got) in enumerate(zip(expected.labels, seen.labels, strict=True)):
        if want != got:
            return f"label differs {how} on input {_show(inputs[i])}: expected {want}, got {got}"
    gap = np.abs(np.asarray(expected.probabilities) - np.asarray(seen.probabilities))
    if not gap.size or gap.max() <= TOLERANCE:
        return None
    worst = int(gap.max(axis=1).argmax())
    return (
        f"probabilities differ {how} by {gap.max():.3g} > {TOLERANCE:g} "
        f"on input {_show(inputs[worst])}"
    )


def _joined(parts: list[Predictions]) -> Predictions:
    return Predictions(
        labels=[label for p in parts for label in p.labels],
        confidences=[c for p in parts for c in p.confidences],
        probabilities=[row for p in parts for row in p.probabilities],
        classes=parts[0].classes,
    )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
