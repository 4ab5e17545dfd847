"""Hot reload: load new versions beside the old, warm them, swap one reference.

`apply` is the single code path of both `POST /admin/reload` and the routing.json poller.
Reloads are serialized by a lock; predictions never take it (they read `state` once).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from hotswap.store import backends, reports, versions
from hotswap.store.errors import StoreError
from hotswap.store.layout import ModelPaths
from hotswap.store.routes import Arm, Routing
from hotswap_inference import accelerating, preparing, splitting, states
from hotswap_inference.errors import LoadFailed, StaleGeneration
from hotswap_inference.metrics import Metrics

log = logging.getLogger("hotswap.inference")
R = TypeVar("R")
FROM_ROUTING = "routing"
FROM_CURRENT = "current"
APPLIED, NOOP = "applied", "noop"
POLL_FAILED = "poll_failed"  # lastError.error of a poll that could not read routing.json/current


class Reloader:
    def __init__(
        self,
        root: Path,
        model: str,
        *,
        metrics: Metrics,
        retry_failed_seconds: float = 30.0,
        store: backends.Backend | None = None,
    ) -> None:
        """`store`: where versions and routing live (default: the volume at `root`; a bucket
        downloads each version into `root`, its cache, before loading it)."""
        self.paths = ModelPaths(root, model)
        self.store = store or backends.VolumeBackend(root)
        self.metrics = metrics
        self.retry_failed_seconds = retry_failed_seconds
        self.state: states.ServingState | None = None
        self.last_error: reports.ReloadFailure | None = None
        self._lock = threading.Lock()
        self._failed: dict[Routing, float] = {}
        self._verified = accelerating.Verified()  # fast paths compared once per digest
        self._active_since: float | None = None  # the reload in progress began then
        self.starting: Callable[[], object] = lambda: None  # told, from the reload's thread
        self._ended_at = -math.inf  # the last reload ended then
        # The reloader's own thread: reloads, polls, and the heap freeze after each reload
        # (queued behind the reload, so its answer does not wait for the collection)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotswap-reload")
        for outcome in (LoadFailed.code, "stale"):  # at 0, so increase() sees the first one
            metrics.reloads.labels(model, outcome)

    async def in_thread(self, call: Callable[..., R], *args: Any) -> R:
        """`call(*args)` on the reloader's own thread: the admin reload and the poll. Handing
        the work to a thread that waits for it took ~16 ms on a shared core where Starlette's
        threadpool took ~22 (a switch at N = 10 under load: p50 0.155-0.168 s against
        0.169-0.198 s, three alternating pairs); reloads run one at a time anyway (the lock)."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, call, *args)

    @property
    def model(self) -> str:
        return self.paths.model

    def apply(self, routing: Routing, *, source: str = FROM_ROUTING) -> str:
        """Serve `routing`: `applied` or `noop`; raises `StaleGeneration` or `LoadFailed`."""
        with self._lock:
            outcome = None
            try:
                outcome = self._apply_locked(routing, source)
            except StaleGeneration:
                self.metrics.reloads.labels(self.model, "stale").inc()
                raise
            except LoadFailed as exc:
                self._record_failure(routing, exc)
                raise
            finally:
                if outcome != APPLIED:
                    self._end_window()
            self.metrics.reloads.labels(self.model, outcome).inc()
            if outcome == APPLIED:  # off the reload's answer: a collection holds the GIL
                self._thread.submit(self._settle)
            return outcome

    def reloading_since(self, moment: float) -> bool:
        """A reload (preparing, swapping, freezing the heap) ran at some time from `moment`
        (`time.monotonic()`) to now: what the loop-lag probe counts as `during="reload"`."""
        return self._active_since is not None or self._ended_at >= moment

    def _end_window(self) -> None:
        self._active_since = None
        self._ended_at = time.monotonic()

    def poll(self) -> str | None:
        """Read routing.json (else `current`) and apply it when newer; None when nothing to do."""
        desired = self.read_desired()
        if desired is None or self._is_settled(*desired) or self._failed_recently(desired[0]):
            return None
        try:
            return self.apply(desired[0], source=desired[1])
        except (LoadFailed, StaleGeneration):
            return None

    def read_desired(self) -> tuple[Routing, str] | None:
        routing = self.store.read_routing(self.model)
        if routing is not None:
            return routing, FROM_ROUTING
        version = self.store.read_current(self.model)
        if version is None:
            return None
        digest = versions.get_version(self.paths, version).digest
        return Routing(stable=Arm(version, digest)), FROM_CURRENT

    def _is_settled(self, routing: Routing, source: str) -> bool:
        state = self.state
        if state is None:
            return False
        if source == FROM_ROUTING:
            return state.source == FROM_ROUTING and routing.generation <= state.generation
        return state.source == FROM_ROUTING or state.routing.stable == routing.stable

    def _failed_recently(self, routing: Routing) -> bool:
        failed_at = self._failed.get(routing)
        return failed_at is not None and time.monotonic() - failed_at < self.retry_failed_seconds

    def _declared(self, routing: Routing) -> bool:
        """routing.json declares exactly `routing`: it was re-created with a lower generation
        (deleted, or a re-created Canary), so the lower generation is the declared state."""
        try:
            return self.store.read_routing(self.model) == routing
        except (StoreError, OSError):
            return False

    def _apply_locked(self, routing: Routing, source: str) -> str:
        current = self.state
        applied = current.generation if current and current.source == FROM_ROUTING else -1
        if source == FROM_ROUTING and routing.generation == applied:
            return NOOP
        if source == FROM_ROUTING and routing.generation < applied and not self._declared(routing):
            raise StaleGeneration(
                f"generation {routing.generation} is older than the applied {applied}: "
                "send the latest routing",
                generation=applied,
            )
        started = time.perf_counter()
        self._active_since = time.monotonic()
        self.starting()
        served = {arm.version: self._prepare(arm, current) for arm in arms_of(routing)}
        self.state = states.ServingState(self.model, routing, served, source)
        self.last_error = None
        self._failed.clear()
        self.metrics.reload_duration.labels(self.model).observe(time.perf_counter() - started)
        self._publish_metrics(
            self.state, fresh=set(served) - set(current.served if current else ())
        )
        self._retain(routing)
        return APPLIED

    def _retain(self, routing: Routing) -> None:
        """Drop cached copies of versions the routing no longer needs (a bucket's cache; the
        volume keeps everything). A failure is logged: the reload itself succeeded."""
        try:
            self.store.retain(self.model, set(routing.versions))
        except (StoreError, OSError) as exc:
            log.warning("evicting old versions of %s from the cache failed: %s", self.model, exc)

    def _settle(self) -> None:
        """Freeze the heap after an applied reload, then end the reload's window."""
        try:
            freeze_heap()
        finally:
            self._end_window()

    def _prepare(self, arm: Arm, current: states.ServingState | None) -> states.Served:
        existing = current.served.get(arm.version) if current else None
        if existing is not None and existing.digest == arm.digest:
            return existing
        return preparing.prepare_version(
            self.paths.root, self.model, arm, store=self.store, verified=self._verified
        )

    def _record_failure(self, routing: Routing, exc: LoadFailed) -> None:
        self._failed = {routing: time.monotonic()}
        self.last_error = reports.ReloadFailure(
            exc.code,
            exc.version,
            exc.reason,
            generation=routing.generation,
            time=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self.metrics.reloads.labels(self.model, exc.code).inc()

    def record_poll_failure(self, exc: Exception) -> None:
        """A poll that could not read what to serve (routing.json or `current` unreadable or
        malformed) is `lastError` too: no version, generation 0 (no routing was read, so it
        never passes for a failed load of the routing the operator declared)."""
        self.last_error = reports.ReloadFailure(
            POLL_FAILED,
            "",
            preparing.describe_error(exc),
            generation=0,
            time=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def _publish_metrics(self, state: states.ServingState, *, fresh: set[str]) -> None:
        m = self.metrics
        m.model_info.clear()
        m.fastpath.clear()
        for arm in arm_names(state.routing):
            served = state.serving(arm)
            m.model_info.labels(self.model, served.version, served.digest, arm).set(1)
        for served in state.served.values():
            reason = served.fallback_reason
            fallback = accelerating.fallback_kind(reason) if reason else ""
            m.fastpath.labels(self.model, served.version, served.kind, fallback).set(1)
            if reason and served.version in fresh:
                m.fallbacks.labels(self.model, fallback).inc()
        m.health.labels(self.model).set(1)

    def report(self, signals: reports.Signals | None) -> reports.PodReport:
        """What `GET /admin/status` answers (and a successful reload), with `signals`."""
        state = self.state
        return reports.PodReport(
            model=self.model,
            ready=state is not None,
            routing=state.routing if state else None,
            source=state.source if state else None,
            predictors=predictors_of(state) if state else {},
            last_error=self.last_error,
            pid=os.getpid(),
            signals=signals,
        )


def freeze_heap() -> None:
    """Collect what is not frozen yet, then freeze every object alive (`gc.freeze`).

    A full collection walks every tracked object: ~50 ms with sklearn, scipy and a model
    loaded, holding the GIL, and under load one came every ~15 s, stalling every request in
    flight (the p99). Frozen objects are not walked again, so this collection (and every
    automatic one after it) walks only what was allocated since the last freeze: a few ms at
    most, and ~50 ms once, at the first load. The frozen heap is never unfrozen: a swapped-out
    state holds no reference cycle (tests/unit/inference/test_lagging.py checks it), so
    reference counting frees it the moment its last request ends.
    """
    gc.collect()
    gc.freeze()


def arms_of(routing: Routing) -> list[Arm]:
    return [routing.stable] + ([routing.canary] if routing.canary else [])


def arm_names(routing: Routing) -> list[str]:
    return [splitting.STABLE] + ([splitting.CANARY] if routing.canary else [])


def predictors_of(state: states.ServingState) -> dict[str, reports.PredictorInfo]:
    return {v: reports.PredictorInfo(s.kind, s.fallback_reason) for v, s in state.served.items()}
