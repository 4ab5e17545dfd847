"""The files of a version, written into the staging folder `publish_version` hands over.

model.joblib | model.skops, metrics.json, label_mappings.json, samples.json; the store adds
MANIFEST.json and registers the version.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hotswap.store import files, layout

# model.joblib is written as a plain pickle (arrays in line, protocol 5): `joblib.load` reads it
# as it reads any pickle, and the inference pods read it with pickle's C unpickler, ~20x faster
# than joblib's pure-Python one (`loading.PlainUnpickler`).
PICKLE_PROTOCOL = 5


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
    with path.open("wb") as handle:  # a plain pickle: joblib.load and pickle.load read it
        pickle.dump(estimator, handle, protocol=PICKLE_PROTOCOL)


def label_mappings(classes: Sequence[Any]) -> dict[str, Any]:
    """Labels in the estimator's class order (the columns of `predict_proba`), both ways."""
    labels = [str(label) for label in classes]
    return {
        "labels": labels,
        "label2id": {label: i for i, label in enumerate(labels)},
        "id2label": {str(i): label for i, label in enumerate(labels)},
    }
