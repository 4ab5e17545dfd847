"""Optional MLflow logging of a trained version: params, metrics, tags and the version's files.

Needs the `mlflow` extra; imported only when a tracking URI is given. MLflow 3 refuses the
plain file store, so a local store is a database: `sqlite:///path/to/mlflow.db`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hotswap.store.publishing import Published
from hotswap.training.errors import MissingExtra, TrainingError

EXPERIMENT_PREFIX = "hotswap-"
ARTIFACT_PATH = "version"


def log_version(
    uri: str,
    published: Published,
    *,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
) -> str:
    """Log one run for `published` under experiment `hotswap-<model>`; return its run id."""
    client, mlflow_error = _client(uri)
    try:
        experiment_id = _experiment_id(client, uri, f"{EXPERIMENT_PREFIX}{published.model}")
        run = client.create_run(experiment_id, run_name=published.version, tags=_tags(published))
        run_id = str(run.info.run_id)
        _log_values(client, run_id, params=params, metrics=metrics)
        client.log_artifacts(run_id, str(published.path), artifact_path=ARTIFACT_PATH)
        client.set_terminated(run_id)
    except mlflow_error as exc:
        raise TrainingError(f"MLflow at {uri} refused the run: {exc}") from exc
    return run_id


def require_mlflow() -> None:
    """Fail fast, before any training, when the extra is missing."""
    _import_mlflow()


def _import_mlflow() -> tuple[type[Any], type[Exception]]:
    try:
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise MissingExtra("--mlflow-uri needs MLflow: pip install 'hotswap[mlflow]'") from exc
    return MlflowClient, MlflowException


def _client(uri: str) -> tuple[Any, type[Exception]]:
    client_type, mlflow_error = _import_mlflow()
    try:
        return client_type(tracking_uri=uri), mlflow_error
    except mlflow_error as exc:
        raise TrainingError(
            f"MLflow cannot use {uri!r}: {exc} (a local store: sqlite:///path/mlflow.db)"
        ) from exc


def _experiment_id(client: Any, uri: str, name: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    return str(client.create_experiment(name, artifact_location=_artifact_location(uri)))


def _artifact_location(uri: str) -> str | None:
    """Beside a local sqlite database (not the working directory); a server picks its own."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return None
    return (Path(uri[len(prefix) :]).absolute().parent / "mlartifacts").as_uri()


def _tags(published: Published) -> dict[str, str]:
    return {
        "hotswap.model": published.model,
        "hotswap.version": published.version,
        "hotswap.digest": published.digest,
        "hotswap.format": published.format,
    }


def _log_values(
    client: Any, run_id: str, *, params: Mapping[str, Any], metrics: Mapping[str, float]
) -> None:
    from mlflow.entities import Metric, Param

    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(key, float(value), now, 0) for key, value in metrics.items()],
        params=[Param(key, str(value)) for key, value in params.items()],
    )
