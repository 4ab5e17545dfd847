"""MLflow logging to a local sqlite store records params, metrics, tags and the version's files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hotswap.training import training
from hotswap.training.errors import MissingExtra

# SQLAlchemy 2.1 deprecates a loader strategy MLflow's store still configures at import.
SQLALCHEMY_NOISE = "ignore:The ``noload`` loader strategy is deprecated"


@pytest.mark.filterwarnings(SQLALCHEMY_NOISE)
def test_run_holds_params_metrics_and_artifacts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracking = pytest.importorskip("mlflow.tracking")
    monkeypatch.chdir(tmp_path)  # nothing MLflow writes may land in the repository
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = training.train(tmp_path / "models", "intent", seed=4, mlflow_uri=uri)
    assert result.mlflow_run_id is not None
    client = tracking.MlflowClient(tracking_uri=uri)
    run = client.get_run(result.mlflow_run_id)
    assert run.data.metrics == {k: result.metrics[k] for k in ("accuracy", "macroF1")}
    assert run.data.params["estimator"] == "logreg" and run.data.params["seed"] == "4"
    assert run.data.tags["hotswap.digest"] == result.published.digest
    logged = {item.path for item in client.list_artifacts(result.mlflow_run_id, "version")}
    expected = {f"version/{name}" for name in ("model.joblib", "MANIFEST.json", "metrics.json")}
    assert expected <= logged, f"expected {expected} among the artifacts, saw {logged}"
    assert (tmp_path / "mlartifacts").is_dir(), "artifacts belong beside the sqlite database"


def test_missing_extra_fails_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    with pytest.raises(MissingExtra, match=r"hotswap\[mlflow\]"):
        training.train(tmp_path, "intent", mlflow_uri=f"sqlite:///{tmp_path / 'm.db'}")
    assert not (tmp_path / "intent").exists(), "nothing may be published when MLflow is missing"
