"""Fixtures: a volume root with small published versions (a real sklearn model, tiny)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import joblib
import pytest
from sklearn.linear_model import LogisticRegression

from hotswap.store import publishing
from hotswap.store.layout import LABELS, SAMPLES

MODEL = "intent"
Publish = Callable[..., publishing.Published]


def write_tiny_model(folder: Path) -> None:
    estimator = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], ["a", "a", "b", "b"])
    joblib.dump(estimator, folder / "model.joblib")
    (folder / LABELS).write_text(json.dumps({"labels": ["a", "b"]}))
    (folder / SAMPLES).write_text(json.dumps([[0.5], [2.5]]))


@pytest.fixture
def publish(root: Path) -> Publish:
    def _publish(model: str = MODEL, **kwargs: object) -> publishing.Published:
        return publishing.publish_version(root, model, write_tiny_model, **kwargs)  # type: ignore[arg-type]

    return _publish
