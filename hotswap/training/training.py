"""Train a classifier, evaluate it on held-out rows, publish it, describe it as a ModelVersion.

result = training.train(root, "intent")                  # TF-IDF + logistic regression
result = training.train(root, "iris", estimator="random-forest", format="skops")
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotswap.store import names, publishing
from hotswap.store.publishing import Published
from hotswap.training import datasets, estimators, evaluating, resources, tracking, writing
from hotswap.training.errors import DatasetError, TrainingError

HEADLINE = ("accuracy", "macroF1")


@dataclass(frozen=True)
class TrainResult:
    published: Published
    metrics: dict[str, Any]  # the content of metrics.json
    manifest: dict[str, Any]  # the ModelVersion resource
    mlflow_run_id: str | None = None


def train(
    root: Path,
    model: str,
    *,
    dataset: Path | None = None,
    estimator: str = "logreg",
    seed: int = 0,
    format: str = "joblib",
    mlflow_uri: str | None = None,
    label_noise: float = 0.0,
) -> TrainResult:
    """Fit `estimator` on `dataset` (the shipped data by default) and publish a new version.

    `label_noise` (0-1) replaces that share of the training labels by another class, seeded:
    a deliberately worse model, for trying a rollback (the held-out rows keep true labels)."""
    _check_request(model, estimator=estimator, format=format, mlflow_uri=mlflow_uri)
    if not 0.0 <= label_noise <= 1.0:
        raise ValueError(f"label_noise must be from 0 to 1, got {label_noise!r}")
    fitted = fit_and_score(
        load_dataset(estimator, dataset), estimator=estimator, seed=seed, label_noise=label_noise
    )
    headline = {key: fitted.metrics[key] for key in HEADLINE}
    write = writing.version_writer(
        fitted.estimator, format=format, metrics=fitted.metrics, samples=fitted.samples
    )
    published = publishing.publish_version(root, model, write, format=format, metrics=headline)
    manifest = resources.build_model_version(published, metrics=headline)
    run_id = _log_to_mlflow(mlflow_uri, published, metrics=fitted.metrics) if mlflow_uri else None
    return TrainResult(published, fitted.metrics, manifest, run_id)


@dataclass(frozen=True)
class Fitted:
    estimator: Any
    metrics: dict[str, Any]
    samples: list[Any]


def fit_and_score(
    data: datasets.Dataset, *, estimator: str, seed: int, label_noise: float = 0.0
) -> Fitted:
    """Fit on the training part of a seeded stratified split; score on the held-out part."""
    split = evaluating.split_dataset(data, seed=seed)
    started = time.monotonic()
    fitted = estimators.build_estimator(estimator, seed=seed)
    train_labels = noisy_labels(split.train_labels, data.classes, share=label_noise, seed=seed)
    fitted.fit(split.train_inputs, train_labels)
    seconds = time.monotonic() - started
    predicted = [str(label) for label in fitted.predict(split.test_inputs)]
    metrics = {
        **evaluating.score_predictions(split.test_labels, predicted),
        "dataset": {
            **data.summary(),
            "trainRows": len(split.train_labels),
            "testRows": len(split.test_labels),
        },
        "training": _training_params(estimator, seed=seed, seconds=seconds)
        | ({"labelNoise": label_noise} if label_noise else {}),
    }
    return Fitted(fitted, metrics, evaluating.pick_samples(split))


def noisy_labels(labels: list[str], classes: list[str], *, share: float, seed: int) -> list[str]:
    """`labels` with `share` of them (seeded) replaced by another class."""
    if not share:
        return list(labels)
    rng = random.Random(seed)
    noisy = list(labels)
    for index in rng.sample(range(len(noisy)), round(share * len(noisy))):
        noisy[index] = rng.choice([c for c in classes if c != noisy[index]])
    return noisy


def load_dataset(estimator: str, path: Path | None) -> datasets.Dataset:
    """Text estimators read `path` (or the shipped intents); random-forest trains on iris."""
    if estimators.INPUTS[estimator] == "text":
        return datasets.load_text(path)
    if path is not None:
        raise DatasetError(
            f"estimator {estimator!r} trains on the built-in iris data: drop --data {path}, "
            "or use --estimator logreg for a text dataset"
        )
    return datasets.load_iris()


def _check_request(model: str, *, estimator: str, format: str, mlflow_uri: str | None) -> None:
    names.check_model_name(model)
    estimators.check_estimator(estimator)
    if format not in publishing.FORMATS:
        raise ValueError(f"format {format!r} is not one of {', '.join(publishing.FORMATS)}")
    if mlflow_uri:
        tracking.require_mlflow()


def _training_params(estimator: str, *, seed: int, seconds: float) -> dict[str, Any]:
    import sklearn

    return {
        "estimator": estimator,
        "params": estimators.PARAMS[estimator],
        "seed": seed,
        "testFraction": evaluating.TEST_FRACTION,
        "sklearnVersion": sklearn.__version__,
        "pythonVersion": sys.version.split()[0],
        "fitSeconds": round(seconds, 3),
    }


def _log_to_mlflow(uri: str, published: Published, *, metrics: dict[str, Any]) -> str:
    training = metrics["training"]
    params = {
        "estimator": training["estimator"],
        "seed": training["seed"],
        "testFraction": training["testFraction"],
        "format": published.format,
        "datasetSha256": metrics["dataset"]["sha256"],
        "datasetRows": metrics["dataset"]["rows"],
        **{f"param.{key}": value for key, value in training["params"].items()},
    }
    try:
        return tracking.log_version(
            uri, published, params=params, metrics={key: metrics[key] for key in HEADLINE}
        )
    except TrainingError as exc:
        raise TrainingError(f"version {published.version} is published, but {exc}") from exc
