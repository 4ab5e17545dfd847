"""Small published versions for the inference tests: a text pipeline and a numeric forest."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from hotswap.store import publishing, routes
from hotswap.store.layout import LABELS, SAMPLES, ModelPaths

MODEL = "intent"
SENTENCES = [
    ("where is my parcel", "shipping"),
    ("my order has not arrived", "shipping"),
    ("track the delivery please", "shipping"),
    ("when will the package come", "shipping"),
    ("i want my money back", "refund"),
    ("please refund the purchase", "refund"),
    ("return this item for a refund", "refund"),
    ("charge me back the payment", "refund"),
]


def write_text_model(folder: Path, *, c: float = 1.0) -> None:
    texts, labels = zip(*SENTENCES, strict=True)
    pipeline = Pipeline([("tfidf", TfidfVectorizer()), ("clf", LogisticRegression(C=c))])
    pipeline.fit(list(texts), list(labels))
    joblib.dump(pipeline, folder / "model.joblib")
    (folder / LABELS).write_text(json.dumps({"labels": sorted(set(labels))}))
    (folder / SAMPLES).write_text(json.dumps(list(texts[:3])))


def write_forest_model(folder: Path) -> None:
    rows = [[0.0, 0.1], [0.2, 0.0], [1.0, 0.9], [0.9, 1.1]]
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(
        rows, ["low"] * 2 + ["high"] * 2
    )
    joblib.dump(forest, folder / "model.joblib")
    (folder / LABELS).write_text(json.dumps({"labels": ["high", "low"]}))
    (folder / SAMPLES).write_text(json.dumps(rows[:2]))


def publish_text(root: Path, model: str = MODEL, *, c: float = 1.0) -> publishing.Published:
    return publishing.publish_version(root, model, lambda folder: write_text_model(folder, c=c))


def publish_forest(root: Path, model: str = MODEL) -> publishing.Published:
    return publishing.publish_version(root, model, write_forest_model)


def arm(published: publishing.Published) -> routes.Arm:
    return routes.Arm(published.version, published.digest)


def write_routing(
    root: Path,
    stable: publishing.Published,
    canary: publishing.Published | None = None,
    **fields: object,
) -> routes.Routing:
    routing = routes.Routing(
        stable=arm(stable),
        canary=arm(canary) if canary else None,
        **fields,  # type: ignore[arg-type]
    )
    routes.write_routing(ModelPaths(root, stable.model), routing)
    return routing


def reload_body(routing: routes.Routing, model: str = MODEL) -> dict[str, object]:
    return routing.to_dict() | {"model": model}
