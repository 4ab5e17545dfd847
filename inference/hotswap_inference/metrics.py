"""Prometheus metrics of one inference process (one uvicorn worker per pod).

Names follow `hotswap_<subsystem>_<name>_<unit>`; labels take bounded values only (model,
version, arm, code, outcome, kind). The registry is passed in, so each test has its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hotswap.store import reports

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
RATIO_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
LAG_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1.0)
RELOAD_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ARM_LABELS = ("model", "version", "arm")


@dataclass(frozen=True)
class ArmSeries:
    """The series an answered request of one (model, version, arm) touches, resolved once."""

    assigned: Counter  # hotswap_abtest_requests_total
    answered: Counter  # hotswap_inference_requests_total, code 200
    duration: Histogram
    confidence: Histogram


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._arm_series: dict[tuple[str, str, str], ArmSeries] = {}
        self.requests = Counter(
            "hotswap_inference_requests_total",
            "Prediction requests answered, by routed version, arm and HTTP status code.",
            [*ARM_LABELS, "code"],
            registry=registry,
        )
        self.duration = Histogram(
            "hotswap_inference_request_duration_seconds",
            "Time to answer a prediction request, body parsing to response.",
            ARM_LABELS,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.confidence = Histogram(
            "hotswap_inference_prediction_confidence_ratio",
            "Probability of the predicted label, one observation per input.",
            ARM_LABELS,
            buckets=RATIO_BUCKETS,
            registry=registry,
        )
        self.model_info = Gauge(
            "hotswap_inference_model_info",
            "1 for each version this process serves, with its digest and arm.",
            ["model", "version", "digest", "arm"],
            registry=registry,
        )
        self.reloads = Counter(
            "hotswap_inference_reloads_total",
            "Reload attempts by outcome (applied, noop, stale, load_failed, invalid).",
            ["model", "outcome"],
            registry=registry,
        )
        self.reload_duration = Histogram(
            "hotswap_inference_reload_duration_seconds",
            "Time to verify, load, warm and swap the versions of one applied reload.",
            ["model"],
            buckets=RELOAD_BUCKETS,
            registry=registry,
        )
        self.loop_lag = Histogram(
            "hotswap_inference_loop_lag_seconds",
            "How late the event loop ran a 10 ms timer, during a reload or steady.",
            ["model", "during"],
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.reload_loop_lag_max = Gauge(
            "hotswap_inference_reload_loop_lag_max_seconds",
            "The longest event-loop lag during the last reload (start to heap freeze): wall, "
            "or the part other threads of this process ran meanwhile (threads).",
            ["model", "part"],
            registry=registry,
        )
        self.abtest = Counter(
            "hotswap_abtest_requests_total",
            "A/B assignments: requests routed to each arm.",
            ARM_LABELS,
            registry=registry,
        )
        self.health = Gauge(
            "hotswap_system_health",
            "1 when this process has a model loaded and serves, else 0.",
            ["model"],
            registry=registry,
        )
        self.rewards = Histogram(
            "hotswap_feedback_reward_ratio",
            "Feedback rewards in [0, 1] by version and arm (_sum / _count is the mean).",
            ARM_LABELS,
            buckets=RATIO_BUCKETS,
            registry=registry,
        )
        self.mirrored = Counter(
            "hotswap_mirror_predictions_total",
            "Shadow predictions by the canary on mirrored stable traffic, by outcome.",
            ["model", "version", "outcome"],
            registry=registry,
        )
        self.fastpath = Gauge(
            "hotswap_fastpath_info",
            "1 per loaded version: predictor kind and fallback kind ('' on the fast path).",
            ["model", "version", "kind", "fallback"],
            registry=registry,
        )
        self.fallbacks = Counter(
            "hotswap_fastpath_fallbacks_total",
            "Versions loaded on the plain sklearn path, by fallback kind.",
            ["model", "fallback"],
            registry=registry,
        )

    def watch_signals(self, model: str, read: Callable[[], reports.Signals]) -> None:
        """Serve the signals no series above holds, read at scrape time (`SignalsCollector`)."""
        self.registry.register(SignalsCollector(model, read))

    def arm_series(self, model: str, version: str, arm: str) -> ArmSeries:
        """The request-path series of (model, version, arm): `.labels()` once, not per request."""
        key = (model, version, arm)
        found = self._arm_series.get(key)
        if found is None:
            found = ArmSeries(
                self.abtest.labels(*key),
                self.requests.labels(*key, "200"),
                self.duration.labels(*key),
                self.confidence.labels(*key),
            )
            found = self._arm_series.setdefault(key, found)
        return found


class SignalsCollector(Collector):
    """The analysis signals the series of `Metrics` do not hold, built from `read()` at scrape
    time (nothing on the request path): slow answers, predicted labels, the sum of squared
    rewards and the process epoch. The rest of the signals are the series above: requests by
    code, the duration and confidence histograms, the reward histogram's count and sum."""

    def __init__(self, model: str, read: Callable[[], reports.Signals]) -> None:
        self.model = model
        self.read = read

    def collect(self) -> Iterator[Metric]:
        signals = self.read()
        slow = CounterMetricFamily(
            "hotswap_inference_slow_requests",
            "Answers slower than the slow threshold (HOTSWAP_SLOW_SECONDS), by version and arm.",
            labels=ARM_LABELS,
        )
        labels = CounterMetricFamily(
            "hotswap_inference_predicted_labels",
            "Predicted labels, one per input, by version, arm and label.",
            labels=[*ARM_LABELS, "label"],
        )
        squares = CounterMetricFamily(
            "hotswap_feedback_reward_squares",
            "Sum of squared feedback rewards by version and arm (with the reward histogram's "
            "_sum and _count: the variance).",
            labels=ARM_LABELS,
        )
        for arm in signals.arms:
            key = [self.model, arm.version, arm.arm]
            slow.add_metric(key, arm.slow)
            squares.add_metric(key, arm.feedback_sum_squares)
            for label, count in sorted(arm.labels.items()):
                labels.add_metric([*key, label], count)
        info = GaugeMetricFamily(
            "hotswap_inference_process_info",
            "1, labelled with this process's epoch: a new epoch means the counters restarted.",
            labels=["model", "epoch"],
        )
        info.add_metric([self.model, signals.epoch], 1)
        yield from (slow, labels, squares, info)
