"""A fast path's rows to labels: the label numpy's argmax (so sklearn) would pick."""

from __future__ import annotations

import numpy as np
import pytest
from hotswap_inference.predictors import predictions_from_rows

CLASSES = ["a", "b", "c"]


@pytest.mark.parametrize(
    "row",
    [
        [0.2, 0.3, 0.5],  # the last
        [0.5, 0.3, 0.2],  # the first
        [0.25, 0.5, 0.25],  # the middle
        [0.4, 0.4, 0.2],  # tied first and second: the first
        [0.2, 0.4, 0.4],  # tied second and third: the second
        [1 / 3, 1 / 3, 1 / 3],  # all tied: the first
    ],
)
def test_the_label_and_confidence_are_those_of_numpys_argmax(row: list[float]) -> None:
    best = int(np.argmax(row))
    found = predictions_from_rows([row], CLASSES)
    assert (found.labels, found.confidences) == ([CLASSES[best]], [row[best]])
    assert found.probabilities == [row] and found.classes == CLASSES


def test_each_row_of_a_batch_is_decided_alone() -> None:
    rows = [[0.1, 0.9, 0.0], [0.7, 0.1, 0.2]]
    assert predictions_from_rows(rows, CLASSES).labels == ["b", "a"]
