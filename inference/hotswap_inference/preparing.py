"""Prepare one version to serve: verify and load it, build its predictor, warm it up."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from hotswap.store import backends, loading
from hotswap.store.routes import Arm
from hotswap_inference import accelerating, states
from hotswap_inference.errors import LoadFailed

WARM_SAMPLES = 8
RELOAD_SWITCH_INTERVAL = 0.0005  # GIL slices of a long load: the loop waits at most ~this long


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
    `verified`: the digests whose fast path this process compared with sklearn already.

    A version whose fast path this process compared already loads with the interpreter's
    usual GIL slices: ~2 ms of CPU for the default text model, which the event loop waits
    out once; anything more (a first comparison with sklearn, ~10 ms; a model sklearn serves)
    loads in short slices (`short_gil_slices`)."""
    cheap = verified is not None and verified.knows(arm.digest)
    with contextlib.nullcontext() if cheap else short_gil_slices():
        return _prepare(root, model, arm, store=store, verified=verified)


def _prepare(
    root: Path,
    model: str,
    arm: Arm,
    *,
    store: backends.Backend | None,
    verified: accelerating.Verified | None,
) -> states.Served:
    try:
        folder = (store or backends.VolumeBackend(root)).materialize(model, arm)
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


@contextlib.contextmanager
def short_gil_slices(seconds: float = RELOAD_SWITCH_INTERVAL) -> Iterator[None]:
    """Run a long load with short GIL slices: a thread holding the GIL is asked to drop it
    after `seconds` (`sys.setswitchinterval`, 5 ms by default) when the event loop waits for
    it, so a load in a reload's thread stalls the loop for at most about that long, bar single
    C calls that hold the GIL longer. Each slice costs the load a turn of the scheduler on a
    busy core, which is why a cheap load does without. Loads are serialized (the reloader's
    lock), so the interval set here is the one restored."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
