"""Live signals of this process per (version, arm): what rollout analysis compares.

Cumulative since the process started, under an `epoch` drawn once per process; a forked child
draws its own and starts from zero, so the operator tells a restart from the same process.

One writer, no lock: every update runs on the event loop thread (the prediction endpoints count
after the threadpool hands the answer back; feedback and failures are counted by async
endpoints), so a plain `+=` on a per-(version, arm) `ArmTally` cannot lose an update. Readers
take `snapshot()`: copies made under the GIL, safe from any thread (a reader on another thread
may see one request half-counted, never a torn number).
"""

from __future__ import annotations

import itertools
import math
import os
import secrets
import weakref
from bisect import bisect_left
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from hotswap.store import reports
from hotswap_inference.metrics import ARM_LABELS, LATENCY_BUCKETS, RATIO_BUCKETS
from hotswap_inference.predictors import Predictions

EPOCH_BYTES = 8


class ArmTally:
    """The counts of one (version, arm): see `reports.ArmSignals` for what each one means."""

    __slots__ = (
        "arm",
        "assigned",
        "codes",
        "confidence",
        "confidence_sum",
        "feedback_count",
        "feedback_squares",
        "feedback_sum",
        "labels",
        "latency",
        "latency_sum",
        "slow",
        "slow_seconds",
        "version",
    )

    def __init__(self, version: str, arm: str, *, slow_seconds: float) -> None:
        self.version, self.arm, self.slow_seconds = version, arm, slow_seconds
        self.slow = self.feedback_count = self.assigned = 0
        self.codes: dict[str, int] = {}  # answers by HTTP status code, refusals included
        self.latency_sum = self.confidence_sum = self.feedback_sum = self.feedback_squares = 0.0
        self.latency = [0] * (len(LATENCY_BUCKETS) + 1)
        self.confidence = [0] * (len(RATIO_BUCKETS) + 1)
        self.labels: dict[str, int] = {}

    def answered(self, latency: float, predictions: Predictions) -> None:
        """A 200 answer: its latency, and one label and confidence per input."""
        codes = self.codes
        codes["200"] = codes.get("200", 0) + 1
        self.latency[bisect_left(LATENCY_BUCKETS, latency)] += 1
        self.latency_sum += latency
        if latency > self.slow_seconds:
            self.slow += 1
        labels, confidence = self.labels, self.confidence
        for label in predictions.labels:
            labels[label] = labels.get(label, 0) + 1
        for value in predictions.confidences:
            confidence[bisect_left(RATIO_BUCKETS, value)] += 1
            self.confidence_sum += value

    def failed(self, status: int) -> None:
        """A request that ended in an error (counted by its code; see `counted`)."""
        code = str(status)
        self.codes[code] = self.codes.get(code, 0) + 1

    def counted(self) -> tuple[int, int]:
        """What analysis counts, (requests, errors): 200 answers and 5xx count against the
        version, a 4xx (the caller's fault) does not."""
        codes = dict(self.codes)
        errors = sum(count for code, count in codes.items() if code.startswith("5"))
        return codes.get("200", 0) + errors, errors

    def credit(self, reward: float) -> None:
        self.feedback_count += 1
        self.feedback_sum += reward
        self.feedback_squares += reward * reward

    def snapshot(self) -> reports.ArmSignals:
        requests, errors = self.counted()
        return reports.ArmSignals(
            self.version,
            self.arm,
            requests=requests,
            errors=errors,
            slow=self.slow,
            latency=reports.Histogram(LATENCY_BUCKETS, tuple(self.latency), self.latency_sum),
            feedback_count=self.feedback_count,
            feedback_sum=self.feedback_sum,
            feedback_sum_squares=self.feedback_squares,
            labels=dict(self.labels),
            confidence=reports.Histogram(
                RATIO_BUCKETS, tuple(self.confidence), self.confidence_sum
            ),
        )


class Tallies:
    """Every `ArmTally` of this process, by (version, arm), under one epoch."""

    def __init__(self, *, slow_seconds: float) -> None:
        self.slow_seconds = slow_seconds
        self.restart()
        restart_in_children(self)

    def restart(self) -> None:
        """A new epoch and zero counts (a new process, or a forked child of this one)."""
        self.epoch = secrets.token_hex(EPOCH_BYTES)
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._arms: dict[tuple[str, str], ArmTally] = {}

    def of(self, version: str, arm: str) -> ArmTally:
        found = self._arms.get((version, arm))
        if found is None:
            found = ArmTally(version, arm, slow_seconds=self.slow_seconds)
            found = self._arms.setdefault((version, arm), found)
        return found

    def arms(self) -> list[ArmTally]:
        """Every tally, by (version, arm): a copy of the items first, then sorted."""
        return [tally for _, tally in sorted(self._arms.items())]

    def snapshot(self) -> reports.Signals:
        arms = [tally.snapshot() for tally in self.arms()]
        return reports.Signals(self.epoch, self.started_at, self.slow_seconds, arms)


def restart_in_children(tallies: Tallies) -> None:
    """A forked child restarts `tallies` (held weakly: the hook outlives the object)."""
    ref = weakref.ref(tallies)

    def restart() -> None:
        alive = ref()
        if alive is not None:
            alive.restart()

    os.register_at_fork(after_in_child=restart)


class TallyCollector(Collector):
    """The request series of one model, built from its `Tallies` at scrape time: the request
    path counts once, in plain integers (four Prometheus updates per request were ~5 us of a
    text request's CPU), and the series hold exactly what analysis reads. Labels take bounded
    values only: model, version, arm, code, label."""

    def __init__(self, model: str, tallies: Tallies) -> None:
        self.model = model
        self.tallies = tallies

    def collect(self) -> Iterator[Metric]:
        families = TallyFamilies()
        for tally in self.tallies.arms():
            families.add(self.model, tally)
        info = GaugeMetricFamily(
            "hotswap_inference_process_info",
            "1, labelled with this process's epoch: a new epoch means the counters restarted.",
            labels=["model", "epoch"],
        )
        info.add_metric([self.model, self.tallies.epoch], 1)
        yield from (*families.all(), info)


class TallyFamilies:
    """The metric families of the tallies, filled one tally at a time."""

    def __init__(self) -> None:
        self.assigned = CounterMetricFamily(
            "hotswap_abtest_requests",
            "A/B assignments: requests routed to each arm.",
            labels=ARM_LABELS,
        )
        self.requests = CounterMetricFamily(
            "hotswap_inference_requests",
            "Prediction requests answered, by routed version, arm and HTTP status code.",
            labels=[*ARM_LABELS, "code"],
        )
        self.duration = HistogramMetricFamily(
            "hotswap_inference_request_duration_seconds",
            "Time to answer a prediction request, body parsing to response.",
            labels=ARM_LABELS,
        )
        self.confidence = HistogramMetricFamily(
            "hotswap_inference_prediction_confidence_ratio",
            "Probability of the predicted label, one observation per input.",
            labels=ARM_LABELS,
        )
        self.slow = CounterMetricFamily(
            "hotswap_inference_slow_requests",
            "Answers slower than the slow threshold (HOTSWAP_SLOW_SECONDS), by version and arm.",
            labels=ARM_LABELS,
        )
        self.labels = CounterMetricFamily(
            "hotswap_inference_predicted_labels",
            "Predicted labels, one per input, by version, arm and label.",
            labels=[*ARM_LABELS, "label"],
        )
        self.squares = CounterMetricFamily(
            "hotswap_feedback_reward_squares",
            "Sum of squared feedback rewards by version and arm (with the reward histogram's "
            "_sum and _count: the variance).",
            labels=ARM_LABELS,
        )

    def add(self, model: str, tally: ArmTally) -> None:
        key = [model, tally.version, tally.arm]
        self.slow.add_metric(key, tally.slow)
        self.squares.add_metric(key, tally.feedback_squares)
        for label, count in sorted(dict(tally.labels).items()):
            self.labels.add_metric([*key, label], count)
        if not tally.assigned:
            return  # not routed by this process: only feedback was credited to it
        self.assigned.add_metric(key, tally.assigned)
        codes = {"200": 0, **tally.codes}
        for code, count in sorted(codes.items()):
            self.requests.add_metric([*key, code], count)
        latency = buckets(LATENCY_BUCKETS, tally.latency)
        self.duration.add_metric(key, latency, tally.latency_sum)
        confidence = buckets(RATIO_BUCKETS, tally.confidence)
        self.confidence.add_metric(key, confidence, tally.confidence_sum)

    def all(self) -> tuple[Metric, ...]:
        return (
            self.assigned,
            self.requests,
            self.duration,
            self.confidence,
            self.slow,
            self.labels,
            self.squares,
        )


def buckets(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, float]]:
    """Prometheus' cumulative (le, count) pairs of per-bucket `counts`, the last one `+Inf`."""
    pairs = cumulative(bounds, counts)
    return [(floatToGoString(bound), count) for bound, count in pairs]  # type: ignore[no-untyped-call]


def cumulative(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[float, float]]:
    """(upper bound, count at or below it) pairs of per-bucket `counts`, the last one +Inf."""
    return list(zip((*bounds, math.inf), itertools.accumulate(list(counts)), strict=True))
