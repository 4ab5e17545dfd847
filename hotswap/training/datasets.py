"""Datasets: the shipped intent sentences, any text file of `text,label` rows, and iris.

A `Dataset` is inputs, labels and where they came from (with the sha256 of the file), checked
to be trainable: enough rows, at least two classes, at least two rows per class.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from hotswap.training import reading
from hotswap.training.errors import DatasetError

DEFAULT_TEXT = Path(__file__).with_name("data") / "intents.csv"
SHIPPED_SOURCE = "hotswap.training:data/intents.csv"  # recorded instead of a machine's path
MIN_ROWS = 10
MIN_PER_CLASS = 2


@dataclass(frozen=True)
class Dataset:
    name: str
    source: str  # the file it was read from
    sha256: str  # of that file's bytes
    inputs: list[Any]  # strings for text, lists of floats for tabular data
    labels: list[str]

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels))

    def summary(self) -> dict[str, Any]:
        counts = Counter(self.labels)
        return {
            "name": self.name,
            "source": self.source,
            "sha256": self.sha256,
            "rows": len(self.labels),
            "classes": self.classes,
            "counts": {label: counts[label] for label in self.classes},
        }


def load_text(path: Path | None = None) -> Dataset:
    """A text dataset from a CSV or JSONL file; the shipped intents when `path` is None."""
    path = path or DEFAULT_TEXT
    rows = reading.read_rows(path)
    dataset = Dataset(
        name=path.stem,
        source=SHIPPED_SOURCE if path == DEFAULT_TEXT else str(path),
        sha256=hash_file(path),
        inputs=[text for text, _ in rows],
        labels=[label for _, label in rows],
    )
    return check_dataset(dataset)


def load_iris() -> Dataset:
    """Fisher's iris measurements as shipped inside scikit-learn (no download)."""
    from sklearn import datasets as sk_datasets

    bunch = sk_datasets.load_iris()
    names = [str(name) for name in bunch.target_names]
    csv_file = resources.files("sklearn.datasets.data") / "iris.csv"
    return Dataset(
        name="iris",
        source="sklearn.datasets.load_iris",
        sha256=hashlib.sha256(csv_file.read_bytes()).hexdigest(),
        inputs=[[float(x) for x in row] for row in bunch.data],
        labels=[names[int(i)] for i in bunch.target],
    )


def check_dataset(dataset: Dataset) -> Dataset:
    rows = len(dataset.labels)
    if rows < MIN_ROWS:
        raise DatasetError(
            f"{dataset.source} has {rows} rows: give at least {MIN_ROWS} labelled examples"
        )
    counts = Counter(dataset.labels)
    if len(counts) < 2:
        raise DatasetError(
            f"{dataset.source} has a single class {next(iter(counts))!r}: a classifier needs "
            "rows of at least two labels"
        )
    rare = sorted(label for label, count in counts.items() if count < MIN_PER_CLASS)
    if rare:
        raise DatasetError(
            f"{dataset.source}: label {rare[0]!r} has fewer than {MIN_PER_CLASS} rows: add "
            "examples of it or drop it, so it can appear in both training and held-out data"
        )
    return dataset


def hash_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
