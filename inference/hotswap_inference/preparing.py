"""Prepare one version to serve: verify and load it, build its predictor, warm it up."""

from __future__ import annotations

from pathlib import Path

from hotswap.store import backends, loading
from hotswap.store.routes import Arm
from hotswap_inference import accelerating, states
from hotswap_inference.errors import LoadFailed

WARM_SAMPLES = 8


def prepare_version(
    root: Path,
    model: str,
    arm: Arm,
    *,
    store: backends.Backend | None = None,
    verified: accelerating.Verified | None = None,
) -> states.Served:
    """A ready `Served`, or `LoadFailed` naming the version and the reason. With a bucket
    `store`, the version is downloaded into `root` (its cache) and verified first; a download
    that fails or does not verify is a LoadFailed like any other (the old version serves on).
    `verified`: the digests whose fast path this process compared with sklearn already."""
    try:
        if store is not None:
            folder = store.materialize(model, arm)
        else:
            folder = loading.version_folder(root, model, arm.version)
        loaded = loading.load_folder(folder, model, arm.version, expected_digest=arm.digest)
        predictor, reason = accelerating.build_predictor(loaded, verified=verified)
        inputs = states.describe_inputs(loaded.samples, loaded.estimator)
    except Exception as exc:  # a store refusal, an I/O error, or anything unpickling raises
        raise LoadFailed(arm.version, describe_error(exc)) from exc
    served = states.Served(arm.version, loaded.digest, predictor, reason, inputs)
    warm_version(served, loaded.samples)
    return served


def warm_version(served: states.Served, samples: list[object]) -> None:
    """One prediction on the stored samples, so the first request pays no warm-up."""
    if not samples:
        return
    try:
        served.predictor.predict(samples[:WARM_SAMPLES])
    except Exception as exc:
        reason = f"warm-up prediction on stored samples failed: {describe_error(exc)}"
        raise LoadFailed(served.version, reason) from exc


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
