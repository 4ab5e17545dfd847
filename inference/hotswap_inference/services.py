"""The service behind the endpoints: routing a request, predicting, counting, logging."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.requests import Request

from hotswap_inference import (
    feedbacks,
    guarding,
    mirroring,
    recording,
    reloading,
    splitting,
    states,
)
from hotswap_inference.errors import NotReady, ServiceError
from hotswap_inference.metrics import Metrics
from hotswap_inference.predictors import Predictions
from hotswap_inference.settings import Settings

REQUEST_ID_HEADER = "x-request-id"


class PredictionFailed(ServiceError):
    status = 500
    code = "prediction_failed"


@dataclass(frozen=True)
class Call:
    """One routed request: the state snapshot it uses to the end, its arm and its id."""

    state: states.ServingState
    arm: str
    served: states.Served
    request_id: str
    started: float


class Service:
    def __init__(self, settings: Settings, *, registry: CollectorRegistry) -> None:
        self.settings = settings
        self.model = settings.model
        self.metrics = Metrics(registry)
        self.reloader = reloading.Reloader(
            settings.model_root,
            settings.model,
            metrics=self.metrics,
            retry_failed_seconds=settings.retry_failed_seconds,
        )
        self.guard = guarding.Guard(
            settings.keys(), rate=settings.rate_limit, burst=settings.rate_burst
        )
        self.querylog = recording.QueryLog(
            stdout=settings.query_log_stdout, path=settings.query_log_file
        )
        self.mirror = mirroring.Mirror(
            self.model, metrics=self.metrics, log=self.log_shadow, maxsize=settings.mirror_queue
        )
        self.recent = feedbacks.RecentRequests()
        self.metrics.health.labels(self.model).set(0)

    def require_state(self) -> states.ServingState:
        state = self.reloader.state
        if state is None:
            raise NotReady(f"model {self.model!r} is not loaded yet: retry shortly")
        return state

    def route(self, request: Request) -> Call:
        """Guard, pick the arm and mark the request as routed (so errors carry the headers)."""
        self.guard.check(request)
        state = self.require_state()
        key = request.headers.get(state.routing.sticky_header)
        arm = splitting.choose_arm(self.model, key, weight=state.routing.weight)
        served = state.serving(arm)
        request.state.routed = (served.version, arm)
        self.metrics.abtest.labels(self.model, served.version, arm).inc()
        request_id = request_id_of(request)
        return Call(state, arm, served, request_id, time.perf_counter())

    def predict(self, call: Call, items: list[Any]) -> Predictions:
        """sklearn work: runs in the threadpool."""
        try:
            predictions = call.served.predictor.predict(items)
        except Exception as exc:
            raise PredictionFailed(f"the model failed to predict: {type(exc).__name__}") from exc
        latency = time.perf_counter() - call.started
        self.observe(call, predictions, latency)
        self.log_predictions(call, predictions, latency)
        self.remember(call)
        self.maybe_mirror(call, items)
        return predictions

    def observe(self, call: Call, predictions: Predictions, latency: float) -> None:
        labels = (self.model, call.served.version, call.arm)
        self.metrics.requests.labels(*labels, "200").inc()
        self.metrics.duration.labels(*labels).observe(latency)
        confidence = self.metrics.confidence.labels(*labels)
        for value in predictions.confidences:
            confidence.observe(value)

    def count_failure(self, call: Call, status: int) -> None:
        self.metrics.requests.labels(self.model, call.served.version, call.arm, str(status)).inc()

    def log_predictions(self, call: Call, predictions: Predictions, latency: float) -> None:
        version, arm = call.served.version, call.arm
        self.querylog.write(
            query_records(
                self.model, version, arm, call.request_id, predictions=predictions, latency=latency
            )
        )

    def log_shadow(
        self,
        served: states.Served,
        request_id: str,
        items: list[Any],
        predictions: Predictions,
        latency: float,
    ) -> None:
        records = query_records(
            self.model,
            served.version,
            splitting.CANARY,
            request_id,
            predictions=predictions,
            latency=latency,
        )
        self.querylog.write([r | {"shadow": True} for r in records])

    def remember(self, call: Call) -> None:
        self.recent.remember(call.request_id, call.served.version, call.arm)

    def record_feedback(self, feedback: feedbacks.Feedback) -> tuple[str, str]:
        state = self.reloader.state
        served = set(state.served) if state else set()
        version, arm = feedbacks.credit_of(feedback, self.recent, served)
        self.metrics.rewards.labels(self.model, version, arm).observe(feedback.reward)
        return version, arm

    def maybe_mirror(self, call: Call, items: list[Any]) -> None:
        canary = call.state.canary()
        if call.arm != splitting.STABLE or canary is None:
            return
        if splitting.should_mirror(call.state.routing.mirror_percent):
            self.mirror.submit(mirroring.Shadow(canary, call.request_id, items))


def request_id_of(request: Request) -> str:
    """The caller's X-Request-Id when it is sane (<= 128 printable chars), else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if 0 < len(given) <= 128 and given.isprintable():
        return given
    return uuid.uuid4().hex


def query_records(
    model: str,
    version: str,
    arm: str,
    request_id: str,
    *,
    predictions: Predictions,
    latency: float,
) -> list[dict[str, Any]]:
    ts = datetime.now(UTC).isoformat(timespec="milliseconds")
    batch = len(predictions.labels)
    return [
        {
            "request_id": request_id,
            "model": model,
            "model_version": version,
            "arm": arm,
            "latency_ms": round(latency * 1000, 3),
            "label": label,
            "confidence": round(confidence, 6),
            "ts": ts,
        }
        | ({"index": i} if batch > 1 else {})
        for i, (label, confidence) in enumerate(
            zip(predictions.labels, predictions.confidences, strict=True)
        )
    ]
