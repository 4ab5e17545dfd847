"""Published versions for the inference tests, trained by `hotswap.training` on its shipped data."""

from __future__ import annotations

from pathlib import Path

from hotswap.store import publishing, routes
from hotswap.store.layout import ModelPaths
from hotswap.training import training

MODEL = "intent"
FOREST_MODEL = "iris"
TEXT_LABELS = {"food_order", "food_recipe", "mood_happy", "mood_sad", "mood_stressed", "smalltalk"}


def publish_text(root: Path, model: str = MODEL, *, seed: int = 0) -> publishing.Published:
    """A TF-IDF + logistic regression version, trained on the shipped intents data."""
    return training.train(root, model, seed=seed).published


def publish_forest(root: Path, model: str = MODEL) -> publishing.Published:
    """A random forest on numeric rows (the shipped iris data): 4 features."""
    return training.train(root, model, estimator="random-forest").published


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
