"""The files of a version, written into the staging folder `publish_version` hands over.

model.joblib | model.skops, metrics.json, label_mappings.json, samples.json; the store adds
MANIFEST.json and registers the version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hotswap.store import files, layout


def version_writer(
    estimator: Any,
    *,
    format: str,
    metrics: dict[str, Any],
    samples: Sequence[Any],
) -> Callable[[Path], None]:
    """The `write(folder)` callback for `publishing.publish_version`."""

    def write(folder: Path) -> None:
        dump_estimator(estimator, folder / layout.MODEL_FILES[format], format=format)
        files.write_json(folder / layout.METRICS, metrics)
        files.write_json(folder / layout.LABELS, label_mappings(estimator.classes_))
        files.write_json(folder / layout.SAMPLES, list(samples))

    return write


def dump_estimator(estimator: Any, path: Path, *, format: str) -> None:
    if format == "skops":
        import skops.io

        skops.io.dump(estimator, path)
        return
    import joblib

    joblib.dump(estimator, path)


def label_mappings(classes: Sequence[Any]) -> dict[str, Any]:
    """Labels in the estimator's class order (the columns of `predict_proba`), both ways."""
    labels = [str(label) for label in classes]
    return {
        "labels": labels,
        "label2id": {label: i for i, label in enumerate(labels)},
        "id2label": {str(i): label for i, label in enumerate(labels)},
    }
