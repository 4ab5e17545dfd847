"""Train a version onto the local volume and register its ModelVersion, verified by the
operator: what `hotswap train` then `kubectl apply` do, in one step."""

from __future__ import annotations

from dataclasses import dataclass

from hotswap import resources
from hotswap.local import objects
from hotswap.local.environments import Environment
from hotswap.training import training


@dataclass(frozen=True)
class Release:
    name: str  # the ModelVersion name, what a Canary's spec.version holds
    version: str  # the version id, what responses carry in X-Model-Version


def train_and_register(env: Environment, *, seed: int, label_noise: float = 0.0) -> Release:
    result = training.train(env.paths.root, env.paths.model, seed=seed, label_noise=label_noise)
    release = Release(result.manifest["metadata"]["name"], str(result.published.version))
    accuracy = float(result.metrics.get("accuracy", 0.0))
    noise = f", {label_noise:.0%} of its training labels wrong" if label_noise else ""
    env.say(f"trained {release.version} (accuracy {accuracy:.3f}{noise}); published on the volume")
    env.objects.create(resources.MODEL_VERSIONS, result.manifest)
    objects.wait_for_condition(
        env.objects, resources.MODEL_VERSIONS, release.name, "Verified", every=0.1
    )
    env.say(f"ModelVersion {release.name} created; the operator verified its digest")
    return release
