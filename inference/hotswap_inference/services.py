"""The service behind the endpoints: routing a request, predicting, counting, logging.

Counting happens on the event loop thread only (the threadpool only runs sklearn), so the
signals (`signals.Tallies`) have one writer and need no lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from prometheus_client import CollectorRegistry
from starlette.concurrency import run_in_threadpool

from hotswap.store import backends, reports
from hotswap_inference import (
    feedbacks,
    guarding,
    identifiers,
    lagging,
    mirroring,
    predicting,
    recording,
    reloading,
    signals,
    signing,
    splitting,
    states,
)
from hotswap_inference.errors import NotReady, ServiceError
from hotswap_inference.exchanges import Exchange
from hotswap_inference.metrics import Metrics
from hotswap_inference.predictors import Predictions
from hotswap_inference.settings import Settings

T = TypeVar("T")


class PredictionFailed(ServiceError):
    status = 500
    code = "prediction_failed"


class Choice(NamedTuple):
    """Where one request goes: the state snapshot it uses to the end, its arm and its id."""

    state: states.ServingState
    arm: str
    served: states.Served
    request_id: str
    started: float


class Call(NamedTuple):
    """One routed request, counted: its choice and the series and signals it counts in (a
    tuple, as `Choice`: made per request, and a frozen dataclass's constructor set each field
    through `object.__setattr__`)."""

    state: states.ServingState
    arm: str
    served: states.Served
    request_id: str
    started: float
    tally: signals.ArmTally  # its counts: signals and metric series (`signals.TallyCollector`)


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
            store=backends.open_backend(settings.store, cache=settings.model_root)
            if settings.store
            else None,
        )
        self.lag_probe = lagging.LagProbe(
            self.metrics, model=self.model, overlaps=self.reloader.reloading_since
        )
        self.guard = guarding.Guard(
            settings.keys(),
            rate=settings.rate_limit,
            burst=settings.rate_burst,
            key_failures=settings.key_failures_per_minute,
        )
        self.querylog = recording.QueryLog(
            stdout=settings.query_log_stdout, path=settings.query_log_file
        )
        self.mirror = mirroring.Mirror(
            self.model, metrics=self.metrics, log=self.log_shadow, maxsize=settings.mirror_queue
        )
        self.tallies = signals.Tallies(slow_seconds=settings.slow_seconds)
        self.metrics.registry.register(signals.TallyCollector(self.model, self.tallies))
        keys = signing.Keys(settings.feedback_secret)
        self.signer = signing.Signer(keys, ttl_seconds=settings.feedback_ttl_seconds)
        self.spent = feedbacks.SpentTokens(ttl_seconds=settings.feedback_ttl_seconds)
        self.metrics.health.labels(self.model).set(0)

    def require_state(self) -> states.ServingState:
        state = self.reloader.state
        if state is None:
            raise NotReady(f"model {self.model!r} is not loaded yet: retry shortly")
        return state

    def route(self, exchange: Exchange) -> Call:
        """Guard, pick the arm and mark the request as routed (so errors carry the headers)."""
        if self.guard.enabled:
            self.guard.check(exchange.request())
        choice = self.choose(exchange.headers)
        exchange.mark_routed(choice.served.version, choice.arm, choice.request_id)
        return self.commit(choice)

    def choose(self, headers: Mapping[str, str]) -> Choice:
        """The arm, version and request id of a request; nothing counted yet."""
        state = self.require_state()
        key = headers.get(state.routing.sticky_header.lower())
        arm = splitting.choose_arm(self.model, key, weight=state.routing.weight)
        request_id = identifiers.request_id_of(headers)
        return Choice(state, arm, state.serving(arm), request_id, time.perf_counter())

    def commit(self, choice: Choice) -> Call:
        """Count a chosen request as routed to its arm: the call that follows it."""
        tally = self.tallies.of(choice.served.version, choice.arm)
        tally.assigned += 1
        return Call(*choice, tally)

    async def answer(self, call: Call, items: list[Any]) -> Predictions:
        """A fast path's own answer inline on the loop; anything sklearn in the threadpool."""
        own = run_model(predicting.answer_inline, call.served, items)
        if own is not None:
            return self.finish(call, items, own)
        predicted = await run_in_threadpool(run_model, call.served.predictor.predict, items)
        return self.finish(call, items, predicted)

    def finish(self, call: Call, items: list[Any], predictions: Predictions) -> Predictions:
        """Count, log and mirror one answered request (on the event loop thread)."""
        latency = time.perf_counter() - call.started
        call.tally.answered(latency, predictions)
        self.log_predictions(call, predictions, latency)
        self.maybe_mirror(call, items)
        return predictions

    def count_failure(self, call: Call, status: int) -> None:
        call.tally.failed(status)

    def feedback_token(self, call: Call) -> str | None:
        """The signed token of an answered call; None when no feedback key is configured."""
        return self.signer.issue(call.request_id, call.served.version, call.arm)

    def log_predictions(self, call: Call, predictions: Predictions, latency: float) -> None:
        head = recording.query_head(self.model, call.served.version, call.arm)
        self.querylog.write(
            recording.query_lines(head, call.request_id, predictions, latency=latency)
        )

    def log_shadow(
        self,
        served: states.Served,
        request_id: str,
        items: list[Any],
        predictions: Predictions,
        latency: float,
    ) -> None:
        head = recording.query_head(self.model, served.version, splitting.CANARY)
        lines = recording.query_lines(head, request_id, predictions, latency=latency, shadow=True)
        self.querylog.write(lines)

    def record_feedback(self, body: Any) -> signing.Claim:
        """Credit the reward of a feedback body to the version and arm its token names, once."""
        self.signer.keys.verifying_macs()  # no key: refused first, whatever the body
        feedback = feedbacks.parse_feedback(body)
        claim = self.signer.verify(feedback.token)
        self.spent.spend(claim)
        self.tallies.of(claim.version, claim.arm).credit(feedback.reward)
        self.metrics.rewards.labels(self.model, claim.version, claim.arm).observe(feedback.reward)
        return claim

    def report(self) -> reports.PodReport:
        """What `GET /admin/status` answers: the serving state, the last error, the signals."""
        return self.reloader.report(self.tallies.snapshot())

    def maybe_mirror(self, call: Call, items: list[Any]) -> None:
        canary = call.state.canary()
        if call.arm != splitting.STABLE or canary is None:
            return
        if splitting.should_mirror(call.state.routing.mirror_percent):
            self.mirror.submit(mirroring.Shadow(canary, call.request_id, items))


def run_model(predict: Callable[..., T], *args: Any) -> T:
    """The model's answer, `predict(*args)`; any exception it raises is a `PredictionFailed`
    (500)."""
    try:
        return predict(*args)
    except Exception as exc:
        raise PredictionFailed(f"the model failed to predict: {type(exc).__name__}") from exc
