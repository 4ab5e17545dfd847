"""A pod's report: what `GET /admin/status` (and `POST /admin/reload`) answers, on both sides.

The inference service builds a `PodReport` and answers `to_dict()`; the operator reads each
pod's reply with `PodReport.from_dict`, which raises `IntegrityError` naming the field of a
malformed reply. Wire keys are camelCase. The routing is flattened at the top level (the keys
of `Routing.to_dict()`), as the reply has always been; `signals` was added later, so a reply
without it parses (`signals` None: no data, never zeros).

Signals are cumulative since the process started. `epoch` is drawn once per process: counts
that restart from zero come with a new epoch, so `Signals.since` tells a restart (count all of
it) from the same process (subtract the baseline).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hotswap.store import names
from hotswap.store.errors import IntegrityError
from hotswap.store.routes import DEFAULT_STICKY_HEADER, Routing

ROUTING_KEYS = ("stable", "canary", "weight", "stickyHeader", "mirrorPercent", "generation")
MISSING: Any = object()


class Fields:
    """Typed reads from one JSON object; every error names the field's dotted path."""

    def __init__(self, body: Any, path: str) -> None:
        if not isinstance(body, dict):
            raise IntegrityError(f"{path} must be a JSON object, got {type(body).__name__}")
        self.body = body
        self.path = path

    def name(self, key: str | int) -> str:
        return f"{self.path}[{key}]" if isinstance(key, int) else f"{self.path}.{key}"

    def value(self, key: str, kinds: tuple[type, ...], default: Any, wanted: str) -> Any:
        found = self.body.get(key, MISSING)
        if (found is MISSING or found is None) and default is not MISSING:
            return default  # an optional field: absent or null
        if found is MISSING:
            raise IntegrityError(f"{self.name(key)} is missing: expected {wanted}")
        if (isinstance(found, bool) and bool not in kinds) or not isinstance(found, kinds):
            raise IntegrityError(f"{self.name(key)} must be {wanted}, got {found!r}")
        return found

    def text(self, key: str, default: Any = MISSING) -> Any:
        return self.value(key, (str,), default, "a string")

    def count(self, key: str, default: Any = MISSING) -> Any:
        found = self.value(key, (int,), default, "an integer >= 0")
        return check_count(found, self.name(key)) if isinstance(found, int) else found

    def number(self, key: str) -> float:
        found = self.value(key, (int, float), MISSING, "a finite number")
        if not math.isfinite(found):
            raise IntegrityError(f"{self.name(key)} must be a finite number, got {found!r}")
        return float(found)

    def flag(self, key: str) -> bool:
        found: bool = self.value(key, (bool,), MISSING, "true or false")
        return found

    def child(self, key: str) -> Fields:
        return Fields(self.value(key, (dict,), MISSING, "a JSON object"), self.name(key))

    def children(self, key: str) -> list[Fields]:
        items = self.value(key, (list,), MISSING, "a JSON array")
        return [Fields(item, f"{self.name(key)}[{i}]") for i, item in enumerate(items)]


def check_count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise IntegrityError(f"{where} must be an integer >= 0, got {value!r}")
    return value


@dataclass(frozen=True)
class Histogram:
    """Counts per bucket, NOT cumulative (unlike Prometheus' `le` series).

    `counts[i]` observations fell in (bounds[i-1], bounds[i]]; the last of the
    `len(bounds) + 1` counts is above the last bound (+Inf). `sum` adds every observation.
    """

    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    sum: float = 0.0

    def __post_init__(self) -> None:
        if len(self.counts) != len(self.bounds) + 1:
            raise ValueError(
                f"has {len(self.counts)} counts for {len(self.bounds)} bounds: "
                "expected one per bound plus one above the last (+Inf)"
            )
        if any(not math.isfinite(b) for b in self.bounds) or sorted(set(self.bounds)) != list(
            self.bounds
        ):
            raise ValueError(f"bounds must be finite and rising, got {list(self.bounds)}")

    @classmethod
    def empty(cls, bounds: tuple[float, ...]) -> Histogram:
        return cls(bounds, (0,) * (len(bounds) + 1))

    @property
    def count(self) -> int:
        return sum(self.counts)

    def plus(self, other: Histogram) -> Histogram:
        self.check_bounds(other)
        counts = tuple(a + b for a, b in zip(self.counts, other.counts, strict=True))
        return Histogram(self.bounds, counts, self.sum + other.sum)

    def minus(self, earlier: Histogram) -> Histogram:
        self.check_bounds(earlier)
        counts = tuple(a - b for a, b in zip(self.counts, earlier.counts, strict=True))
        if min(counts) < 0:
            raise ValueError("a bucket count went down: the earlier histogram is not earlier")
        return Histogram(self.bounds, counts, self.sum - earlier.sum)

    def check_bounds(self, other: Histogram) -> None:
        if other.bounds != self.bounds:
            raise ValueError(f"bounds differ: {list(self.bounds)} vs {list(other.bounds)}")

    def to_dict(self) -> dict[str, Any]:
        return {"bounds": list(self.bounds), "counts": list(self.counts), "sum": self.sum}

    @classmethod
    def from_dict(cls, body: Any, *, field: str = "histogram") -> Histogram:
        read = Fields(body, field)
        bounds = read.value("bounds", (list,), MISSING, "a JSON array of numbers")
        counts = read.value("counts", (list,), MISSING, "a JSON array of integers")
        for i, bound in enumerate(bounds):
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise IntegrityError(f"{read.name('bounds')}[{i}] must be a number, got {bound!r}")
        checked = [check_count(c, f"{read.name('counts')}[{i}]") for i, c in enumerate(counts)]
        try:
            return cls(tuple(float(b) for b in bounds), tuple(checked), read.number("sum"))
        except ValueError as exc:
            raise IntegrityError(f"{field}: {exc}") from exc


@dataclass(frozen=True)
class ArmSignals:
    """What one (version, arm) did in one process, cumulative since it started.

    `requests`: prediction requests that ended 2xx or 5xx (4xx say nothing about the model);
    `errors`: those that ended 5xx; `slow`: 2xx answers slower than `Signals.slow_seconds`;
    `latency`: seconds of the 2xx answers; `labels` and `confidence`: one per predicted input;
    `feedback_*`: the credited rewards (each in [0, 1]), their sum and sum of squares.
    """

    version: str
    arm: str
    requests: int
    errors: int
    slow: int
    latency: Histogram
    feedback_count: int
    feedback_sum: float
    feedback_sum_squares: float
    labels: Mapping[str, int]
    confidence: Histogram

    def __post_init__(self) -> None:
        names.check_version_id(self.version)
        for name in ("requests", "errors", "slow", "feedback_count"):
            check_count(getattr(self, name), name)

    @property
    def key(self) -> tuple[str, str]:
        return self.version, self.arm

    def plus(self, other: ArmSignals) -> ArmSignals:
        """Both counted together (two pods, the same version and arm)."""
        return self.combine(other, 1)

    def minus(self, earlier: ArmSignals) -> ArmSignals:
        """What happened since `earlier` (the same process: the same epoch)."""
        return self.combine(earlier, -1)

    def combine(self, other: ArmSignals, sign: int) -> ArmSignals:
        if other.key != self.key:
            raise ValueError(f"cannot combine {self.key} with {other.key}")
        counts = {
            name: getattr(self, name) + sign * getattr(other, name)
            for name in ("requests", "errors", "slow", "feedback_count")
        }
        labels = dict(self.labels)
        for label, count in other.labels.items():
            labels[label] = labels.get(label, 0) + sign * count
        if min([*counts.values(), *labels.values()]) < 0:
            raise ValueError(f"a count of {self.key} went down: not an earlier report")
        pick = Histogram.plus if sign > 0 else Histogram.minus
        return ArmSignals(
            self.version,
            self.arm,
            **counts,
            latency=pick(self.latency, other.latency),
            feedback_sum=self.feedback_sum + sign * other.feedback_sum,
            feedback_sum_squares=self.feedback_sum_squares + sign * other.feedback_sum_squares,
            labels={label: count for label, count in labels.items() if count},
            confidence=pick(self.confidence, other.confidence),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "arm": self.arm,
            "requests": self.requests,
            "errors": self.errors,
            "slow": self.slow,
            "latency": self.latency.to_dict(),
            "feedbackCount": self.feedback_count,
            "feedbackSum": self.feedback_sum,
            "feedbackSumSquares": self.feedback_sum_squares,
            "labels": dict(self.labels),
            "confidence": self.confidence.to_dict(),
        }

    @classmethod
    def from_dict(cls, body: Any, *, field: str = "arm") -> ArmSignals:
        read = Fields(body, field)
        labels = read.child("labels")
        version = read.text("version")
        try:
            names.check_version_id(version)
        except ValueError as exc:
            raise IntegrityError(f"{read.name('version')}: {exc}") from exc
        return cls(
            version,
            read.text("arm"),
            requests=read.count("requests"),
            errors=read.count("errors"),
            slow=read.count("slow"),
            latency=Histogram.from_dict(read.body.get("latency"), field=read.name("latency")),
            feedback_count=read.count("feedbackCount"),
            feedback_sum=read.number("feedbackSum"),
            feedback_sum_squares=read.number("feedbackSumSquares"),
            labels={label: labels.count(label) for label in labels.body},
            confidence=Histogram.from_dict(
                read.body.get("confidence"), field=read.name("confidence")
            ),
        )


@dataclass(frozen=True)
class Signals:
    """Every (version, arm) one process has answered for, since `started_at` (ISO 8601 UTC)."""

    epoch: str  # random, drawn once per process (a forked child draws its own)
    started_at: str
    slow_seconds: float  # the threshold `ArmSignals.slow` counts above
    arms: list[ArmSignals] = field(default_factory=list)

    def arm(self, version: str, arm: str) -> ArmSignals | None:
        return next((a for a in self.arms if a.key == (version, arm)), None)

    def since(self, earlier: Signals | None) -> list[ArmSignals]:
        """Per (version, arm), what happened after `earlier`: all of it after a restart."""
        if earlier is None or earlier.epoch != self.epoch:
            return list(self.arms)
        found = []
        for now in self.arms:
            before = earlier.arm(*now.key)
            found.append(now if before is None else now.minus(before))
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "startedAt": self.started_at,
            "slowSeconds": self.slow_seconds,
            "arms": [arm.to_dict() for arm in self.arms],
        }

    @classmethod
    def from_dict(cls, body: Any, *, field: str = "signals") -> Signals:
        read = Fields(body, field)
        epoch = read.text("epoch")
        if not epoch:
            raise IntegrityError(f"{read.name('epoch')} must not be empty")
        return cls(
            epoch,
            read.text("startedAt"),
            read.number("slowSeconds"),
            [ArmSignals.from_dict(arm.body, field=arm.path) for arm in read.children("arms")],
        )


@dataclass(frozen=True)
class PredictorInfo:
    kind: str  # "sklearn", or the fast path that answers
    fallback_reason: str | None  # why a fast path did not apply, when it did not

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "fallbackReason": self.fallback_reason}


@dataclass(frozen=True)
class ReloadFailure:
    """The last reload that failed: a version of routing `generation` did not load."""

    error: str
    version: str
    reason: str
    generation: int
    time: str  # ISO 8601 UTC

    def describe(self) -> str:
        return f"{self.version}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "version": self.version,
            "reason": self.reason,
            "generation": self.generation,
            "time": self.time,
        }

    @classmethod
    def from_dict(cls, body: Any, *, field: str = "lastError") -> ReloadFailure:
        read = Fields(body, field)
        return cls(
            read.text("error"),
            read.text("version"),
            read.text("reason"),
            read.count("generation"),
            read.text("time"),
        )


@dataclass(frozen=True)
class PodReport:
    """One inference process: what it serves, how it got there, what went wrong, its signals."""

    model: str
    ready: bool  # a model is loaded; `routing` is what it serves
    routing: Routing | None = None
    source: str | None = None  # "routing" (routing.json or a POST) or "current"
    predictors: Mapping[str, PredictorInfo] = field(default_factory=dict)  # by version
    last_error: ReloadFailure | None = None
    pid: int | None = None
    signals: Signals | None = None  # None from a pod that predates signals: no data

    @property
    def generation(self) -> int | None:
        return self.routing.generation if self.routing else None

    @property
    def versions(self) -> tuple[str, ...]:
        """The versions served, stable first."""
        return self.routing.versions if self.routing else ()

    def reports(self, routing: Routing) -> bool:
        """Serves exactly the declared `routing`: its generation, versions and weight."""
        mine = self.routing
        return (
            mine is not None
            and mine.generation == routing.generation
            and mine.versions == routing.versions
            and mine.weight == routing.weight
        )

    def failure_at(self, generation: int) -> ReloadFailure | None:
        """The last reload failure when it was of routing `generation`, else None."""
        error = self.last_error
        return error if error is not None and error.generation == generation else None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "ready": self.ready}
        body |= self.routing.to_dict() if self.routing else empty_routing()
        return body | {
            "source": self.source,
            "predictors": {v: p.to_dict() for v, p in self.predictors.items()},
            "lastError": self.last_error.to_dict() if self.last_error else None,
            "pid": self.pid,
            "signals": self.signals.to_dict() if self.signals else None,
        }

    @classmethod
    def from_dict(cls, body: Any) -> PodReport:
        read = Fields(body, "pod report")
        error, signals = read.body.get("lastError"), read.body.get("signals")
        return cls(
            model=read.text("model"),
            ready=read.flag("ready"),
            routing=routing_of(read),
            source=read.text("source", None),
            predictors=predictors_of(read),
            last_error=None if error is None else ReloadFailure.from_dict(error),
            pid=read.count("pid", None),
            signals=None if signals is None else Signals.from_dict(signals),
        )


def empty_routing() -> dict[str, Any]:
    """The routing keys of a pod that serves nothing yet."""
    return {
        "generation": None,
        "stable": None,
        "canary": None,
        "weight": 0,
        "stickyHeader": DEFAULT_STICKY_HEADER,
        "mirrorPercent": 0,
    }


def routing_of(read: Fields) -> Routing | None:
    if read.body.get("stable") is None:
        return None
    return Routing.from_dict({key: read.body[key] for key in ROUTING_KEYS if key in read.body})


def predictors_of(read: Fields) -> dict[str, PredictorInfo]:
    listed = Fields(read.value("predictors", (dict,), {}, "a JSON object"), read.name("predictors"))
    found = {}
    for version in listed.body:
        entry = listed.child(version)
        found[version] = PredictorInfo(entry.text("kind"), entry.text("fallbackReason", None))
    return found
