"""Hot reload: load new versions beside the old, warm them, swap one reference.

`apply` is the single code path of both `POST /admin/reload` and the routing.json poller.
Reloads are serialized by a lock; predictions never take it (they read `state` once).
"""

from __future__ import annotations

import gc
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from hotswap.store import reports, routes, switching, versions
from hotswap.store.errors import StoreError
from hotswap.store.layout import ModelPaths
from hotswap.store.routes import Arm, Routing
from hotswap_inference import accelerating, preparing, splitting, states
from hotswap_inference.errors import LoadFailed, StaleGeneration
from hotswap_inference.metrics import Metrics

FROM_ROUTING = "routing"
FROM_CURRENT = "current"
APPLIED, NOOP = "applied", "noop"
POLL_FAILED = "poll_failed"  # lastError.error of a poll that could not read routing.json/current
COLLECT_EVERY_SECONDS = 10.0  # a full collection (~50 ms, GIL held) at most this often


class Reloader:
    def __init__(
        self, root: Path, model: str, *, metrics: Metrics, retry_failed_seconds: float = 30.0
    ) -> None:
        self.paths = ModelPaths(root, model)
        self.metrics = metrics
        self.retry_failed_seconds = retry_failed_seconds
        self.state: states.ServingState | None = None
        self.last_error: reports.ReloadFailure | None = None
        self._lock = threading.Lock()
        self._failed: dict[Routing, float] = {}
        self._collected_at = -COLLECT_EVERY_SECONDS
        for outcome in (LoadFailed.code, "stale"):  # at 0, so increase() sees the first one
            metrics.reloads.labels(model, outcome)

    @property
    def model(self) -> str:
        return self.paths.model

    def apply(self, routing: Routing, *, source: str = FROM_ROUTING) -> str:
        """Serve `routing`: `applied` or `noop`; raises `StaleGeneration` or `LoadFailed`."""
        with self._lock:
            try:
                outcome = self._apply_locked(routing, source)
            except StaleGeneration:
                self.metrics.reloads.labels(self.model, "stale").inc()
                raise
            except LoadFailed as exc:
                self._record_failure(routing, exc)
                raise
            self.metrics.reloads.labels(self.model, outcome).inc()
            if outcome == APPLIED:  # off the reload's answer: a collection holds the GIL
                threading.Thread(target=self._freeze_heap, name="hotswap-gc", daemon=True).start()
            return outcome

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
        routing = routes.read_routing(self.paths)
        if routing is not None:
            return routing, FROM_ROUTING
        version = switching.read_current(self.paths)
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
            return routes.read_routing(self.paths) == routing
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
        served = {arm.version: self._prepare(arm, current) for arm in arms_of(routing)}
        self.state = states.ServingState(self.model, routing, served, source)
        self.last_error = None
        self._failed.clear()
        self.metrics.reload_duration.labels(self.model).observe(time.perf_counter() - started)
        self._publish_metrics(
            self.state, fresh=set(served) - set(current.served if current else ())
        )
        return APPLIED

    def _freeze_heap(self) -> None:
        """`freeze_heap`, collecting at most every `COLLECT_EVERY_SECONDS` (reload storms)."""
        collect = time.monotonic() - self._collected_at >= COLLECT_EVERY_SECONDS
        if collect:
            self._collected_at = time.monotonic()
        freeze_heap(collect=collect)

    def _prepare(self, arm: Arm, current: states.ServingState | None) -> states.Served:
        existing = current.served.get(arm.version) if current else None
        if existing is not None and existing.digest == arm.digest:
            return existing
        return preparing.prepare_version(self.paths.root, self.model, arm)

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


def freeze_heap(*, collect: bool = True) -> None:
    """Take every object alive now out of the cyclic garbage collector's walks (`gc.freeze`).

    A full collection walks every tracked object: ~50 ms with sklearn, scipy and a model
    loaded, holding the GIL, and under load one came every ~15 s, stalling every
    request in flight (the p99). Frozen objects are not walked again. Unfreezing first lets
    this one collection reclaim the cycles of states swapped out earlier: one pause per
    reload instead of one every ~15 s. Without `collect`, only the new objects are
    frozen; what they leave behind is reclaimed by the next reload that collects.
    """
    if collect:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


def arms_of(routing: Routing) -> list[Arm]:
    return [routing.stable] + ([routing.canary] if routing.canary else [])


def arm_names(routing: Routing) -> list[str]:
    return [splitting.STABLE] + ([splitting.CANARY] if routing.canary else [])


def predictors_of(state: states.ServingState) -> dict[str, reports.PredictorInfo]:
    return {v: reports.PredictorInfo(s.kind, s.fallback_reason) for v, s in state.served.items()}
