"""Held-out evaluation: a stratified, seeded split, the offline metrics, and sample inputs.

Metrics are rounded to 4 decimals, the same figures in metrics.json, versions.json and the
ModelVersion, so they compare equal wherever they are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, zip_longest
from typing import Any

from hotswap.training.datasets import Dataset

TEST_FRACTION = 0.2
SAMPLE_COUNT = 16
DECIMALS = 4


@dataclass(frozen=True)
class Split:
    train_inputs: list[Any]
    train_labels: list[str]
    test_inputs: list[Any]
    test_labels: list[str]


def split_dataset(dataset: Dataset, *, seed: int) -> Split:
    """Stratified: every class in both parts; at least one held-out row per class."""
    from sklearn.model_selection import train_test_split

    classes = len(dataset.classes)
    test_size = max(classes, round(TEST_FRACTION * len(dataset.labels)))
    train_x, test_x, train_y, test_y = train_test_split(
        dataset.inputs,
        dataset.labels,
        test_size=test_size,
        random_state=seed,
        stratify=dataset.labels,
    )
    return Split(list(train_x), list(train_y), list(test_x), list(test_y))


def score_predictions(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro F1 and per-class precision/recall/f1/support."""
    from sklearn import metrics

    classes = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0.0
    )
    per_class = {
        label: {
            "precision": _round(precision[i]),
            "recall": _round(recall[i]),
            "f1": _round(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(classes)
    }
    return {
        "accuracy": _round(metrics.accuracy_score(truth, predicted)),
        "macroF1": _round(sum(f1) / len(classes)),
        "perClass": per_class,
    }


def pick_samples(split: Split, *, count: int = SAMPLE_COUNT) -> list[Any]:
    """Held-out inputs taken in turn from each class, so a warm-up touches every class."""
    by_class: dict[str, list[Any]] = {}
    for value, label in zip(split.test_inputs, split.test_labels, strict=True):
        by_class.setdefault(label, []).append(value)
    ordered = [by_class[label] for label in sorted(by_class)]
    interleaved = chain.from_iterable(zip_longest(*ordered))
    return [value for value in interleaved if value is not None][:count]


def _round(value: Any) -> float:
    return round(float(value), DECIMALS)
