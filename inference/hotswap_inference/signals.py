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

import os
import secrets
import weakref
from bisect import bisect_left
from datetime import UTC, datetime

from hotswap.store import reports
from hotswap_inference.metrics import LATENCY_BUCKETS, RATIO_BUCKETS
from hotswap_inference.predictors import Predictions

EPOCH_BYTES = 8


class ArmTally:
    """The counts of one (version, arm): see `reports.ArmSignals` for what each one means."""

    __slots__ = (
        "arm",
        "confidence",
        "confidence_sum",
        "errors",
        "feedback_count",
        "feedback_squares",
        "feedback_sum",
        "labels",
        "latency",
        "latency_sum",
        "requests",
        "slow",
        "slow_seconds",
        "version",
    )

    def __init__(self, version: str, arm: str, *, slow_seconds: float) -> None:
        self.version, self.arm, self.slow_seconds = version, arm, slow_seconds
        self.requests = self.errors = self.slow = self.feedback_count = 0
        self.latency_sum = self.confidence_sum = self.feedback_sum = self.feedback_squares = 0.0
        self.latency = [0] * (len(LATENCY_BUCKETS) + 1)
        self.confidence = [0] * (len(RATIO_BUCKETS) + 1)
        self.labels: dict[str, int] = {}

    def answered(self, latency: float, predictions: Predictions) -> None:
        """A 2xx answer: its latency, and one label and confidence per input."""
        self.requests += 1
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
        """A request that ended in an error: a 5xx counts against the version, a 4xx not."""
        if status >= 500:
            self.requests += 1
            self.errors += 1

    def credit(self, reward: float) -> None:
        self.feedback_count += 1
        self.feedback_sum += reward
        self.feedback_squares += reward * reward

    def snapshot(self) -> reports.ArmSignals:
        return reports.ArmSignals(
            self.version,
            self.arm,
            requests=self.requests,
            errors=self.errors,
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

    def snapshot(self) -> reports.Signals:
        tallies = sorted(self._arms.items())  # a copy of the items first, then sorted
        return reports.Signals(
            self.epoch,
            self.started_at,
            self.slow_seconds,
            [tally.snapshot() for _, tally in tallies],
        )


def restart_in_children(tallies: Tallies) -> None:
    """A forked child restarts `tallies` (held weakly: the hook outlives the object)."""
    ref = weakref.ref(tallies)

    def restart() -> None:
        alive = ref()
        if alive is not None:
            alive.restart()

    os.register_at_fork(after_in_child=restart)
