"""Canary against stable: anytime-valid tests on cumulative counts, and the bandit's weight.

Pure functions over plain numbers, no Kubernetes and no I/O. The operator sums what each arm
answered since the analysis window opened (`ArmCounts`) and calls `judge`; however often it
looks, a canary equal to stable is rolled back with probability at most `alpha`.
docs/analysis.md states each test, its guarantee and its defaults.

Every metric is a *worsening* (positive: the canary is worse) bounded on each side by a
one-sided confidence sequence (`sequences`). `decide` and `overall` take numpy arrays of any
shape, so bench/analysis.py simulates thousands of rollouts with the code the operator runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from hotswap_operator import sequences
from hotswap_operator.sequences import Bounds, FloatArray, Moments

IntArray = npt.NDArray[np.int64]

# Metric names (status.analysis.metrics[].name) and states, as the CRD spells them.
ERROR_RATE, SLOW_RATE, REWARD, LABEL_DRIFT = "errorRate", "slowRate", "reward", "labelDrift"
NO_DATA, INCONCLUSIVE, PASS, FAIL = "NoData", "Inconclusive", "Pass", "Fail"
STATES = (NO_DATA, INCONCLUSIVE, PASS, FAIL)  # `decide` answers indexes into this tuple

# The mixture scale of each metric: the worsening beyond a threshold its test is tuned to catch
# fastest (bench/analysis.py measured the choice; docs/analysis.md has the figures).
SCALES = {ERROR_RATE: 0.01, SLOW_RATE: 0.02, REWARD: 0.05, LABEL_DRIFT: 0.1}
UNITS = {
    ERROR_RATE: "requests",
    SLOW_RATE: "requests",
    REWARD: "feedback",
    LABEL_DRIFT: "predictions",
}


def _require(ok: bool, name: str, rule: str) -> None:
    if not ok:
        raise ValueError(f"{name} {rule}")


@dataclass(frozen=True)
class ArmCounts:
    """What one arm answered in the window: cumulative counts, rewards in [0, 1]."""

    requests: int = 0
    errors: int = 0
    slow: int = 0
    feedback_count: int = 0
    feedback_sum: float = 0.0
    feedback_sum_squares: float = 0.0
    labels: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("requests", "errors", "slow", "feedback_count"):
            _require(getattr(self, name) >= 0, f"ArmCounts.{name}", "must be 0 or more")
        for name in ("errors", "slow"):
            _require(
                getattr(self, name) <= self.requests, f"ArmCounts.{name}", "is part of requests"
            )
        slack = 1e-9 * max(self.feedback_count, 1)
        _require(
            -slack <= self.feedback_sum <= self.feedback_count + slack,
            "ArmCounts.feedback_sum",
            "must be from 0 to feedback_count (rewards are in [0, 1])",
        )
        _require(
            -slack <= self.feedback_sum_squares <= self.feedback_sum + slack,
            "ArmCounts.feedback_sum_squares",
            "must be from 0 to feedback_sum (rewards are in [0, 1])",
        )
        bad = sorted(label for label, count in self.labels.items() if count < 0)
        _require(not bad, "ArmCounts.labels", f"counts must be 0 or more, see {bad}")


@dataclass(frozen=True)
class Thresholds:
    """Fail when the worsening's lower bound is above `fail_above`; pass when its upper bound is
    below `pass_below`. `scale` None means the metric's entry in SCALES."""

    fail_above: float
    pass_below: float
    enabled: bool = True
    scale: float | None = None

    def __post_init__(self) -> None:
        for name in ("fail_above", "pass_below"):
            value = getattr(self, name)
            _require(math.isfinite(value) and -1 <= value <= 1, f"Thresholds.{name}", "in [-1, 1]")
        _require(self.scale is None or self.scale > 0, "Thresholds.scale", "must be above 0")


@dataclass(frozen=True)
class AnalysisSettings:
    """Defaults that work without tuning; docs/analysis.md explains each."""

    alpha: float = 0.05
    min_samples: int = 100
    error_rate: Thresholds = Thresholds(fail_above=0.0, pass_below=0.01)
    slow_rate: Thresholds = Thresholds(fail_above=0.0, pass_below=0.02)
    reward: Thresholds = Thresholds(fail_above=0.0, pass_below=0.02)
    label_drift: Thresholds = Thresholds(fail_above=0.1, pass_below=0.1)  # maxShift, both

    def __post_init__(self) -> None:
        _require(0 < self.alpha < 1, "AnalysisSettings.alpha", "must be between 0 and 1")
        _require(self.min_samples >= 1, "AnalysisSettings.min_samples", "must be 1 or more")

    @property
    def tested(self) -> dict[str, Thresholds]:
        """The enabled metrics by name, in the order they are reported."""
        metrics = {
            ERROR_RATE: self.error_rate,
            SLOW_RATE: self.slow_rate,
            REWARD: self.reward,
            LABEL_DRIFT: self.label_drift,
        }
        return {name: thresholds for name, thresholds in metrics.items() if thresholds.enabled}

    @property
    def metric_alpha(self) -> float:
        """Bonferroni: each tested metric gets an equal share of alpha."""
        return self.alpha / max(len(self.tested), 1)


@dataclass(frozen=True)
class MetricResult:
    metric: str
    state: str  # one of STATES
    stable: float | None
    canary: float | None
    lower: float | None  # bounds of the worsening (positive: canary worse)
    upper: float | None
    stable_samples: int
    canary_samples: int
    message: str


@dataclass(frozen=True)
class Judgement:
    verdict: str  # PASS, FAIL or INCONCLUSIVE
    metrics: tuple[MetricResult, ...]

    @property
    def message(self) -> str:
        """The verdict in words: the deciding metrics' messages."""
        if self.verdict == FAIL:
            return "; ".join(m.message for m in self.metrics if m.state == FAIL)
        if self.verdict == PASS:
            return "every tested metric passed or has no data: " + "; ".join(
                m.message for m in self.metrics
            )
        waiting = [m.message for m in self.metrics if m.state == INCONCLUSIVE]
        return "; ".join(waiting) or "no metric has data on both arms yet"


class Signals(NamedTuple):
    """One arm's counts as arrays of any shape (labels: one more axis, a count per label)."""

    requests: FloatArray
    errors: FloatArray
    slow: FloatArray
    feedback_count: FloatArray
    feedback_sum: FloatArray
    feedback_sum_squares: FloatArray
    labels: FloatArray

    def moments(self, metric: str) -> Moments:
        """The observations a mean metric averages (a rate: 0/1 per request)."""
        if metric == REWARD:
            return Moments(self.feedback_count, self.feedback_sum, self.feedback_sum_squares)
        hits = self.errors if metric == ERROR_RATE else self.slow
        return Moments(self.requests, hits, hits)

    def samples(self, metric: str) -> FloatArray:
        if metric == LABEL_DRIFT:
            return np.asarray(self.labels.sum(-1), dtype=np.float64)
        return self.moments(metric).samples


def scale_of(metric: str, thresholds: Thresholds) -> float:
    """The mixture scale a metric's test uses: its own, else SCALES[metric]."""
    return SCALES[metric] if thresholds.scale is None else thresholds.scale


def bounds_for(metric: str, stable: Signals, canary: Signals, settings: AnalysisSettings) -> Bounds:
    """The bounds of one tested metric's worsening, at its share of alpha."""
    t, alpha = settings.tested[metric], settings.metric_alpha
    scale = scale_of(metric, t)
    if metric == LABEL_DRIFT:
        return sequences.drift_bounds(
            stable.labels,
            canary.labels,
            alpha=alpha,
            fail_above=t.fail_above,
            pass_below=t.pass_below,
            scale=scale,
        )
    bounding = sequences.reward_bounds if metric == REWARD else sequences.rate_bounds
    return bounding(
        stable.moments(metric),
        canary.moments(metric),
        alpha=alpha,
        fail_above=t.fail_above,
        pass_below=t.pass_below,
        scale=scale,
    )


def states_for(stable: Signals, canary: Signals, settings: AnalysisSettings) -> dict[str, IntArray]:
    """Every tested metric's state (indexes into STATES), elementwise."""
    return {
        name: decide(
            bounds_for(name, stable, canary, settings),
            stable.samples(name),
            canary.samples(name),
            thresholds=t,
            min_samples=settings.min_samples,
        )
        for name, t in settings.tested.items()
    }


def decide(
    bounds: Bounds,
    stable_samples: FloatArray,
    canary_samples: FloatArray,
    *,
    thresholds: Thresholds,
    min_samples: int,
) -> IntArray:
    """Indexes into STATES: NoData without samples on an arm, Inconclusive under min_samples,
    Fail when the lower bound is above fail_above (first), Pass when the upper bound is below
    pass_below."""
    fewest = np.minimum(stable_samples, canary_samples)
    state = np.where(bounds.upper < thresholds.pass_below, 2, 1)
    state = np.where(bounds.lower > thresholds.fail_above, 3, state)
    state = np.where(fewest < min_samples, 1, state)
    return np.asarray(np.where(fewest <= 0, 0, state), dtype=np.int64)


def overall(states: IntArray) -> IntArray:
    """The verdict over the last axis (metrics): Fail if any fails; Pass if none is
    Inconclusive and one passes (NoData does not block); else Inconclusive."""
    failed = (states == 3).any(-1)
    passed = (states == 2).any(-1) & ~(states == 1).any(-1)
    return np.asarray(np.where(failed, 3, np.where(passed, 2, 1)), dtype=np.int64)


# ---- judging one window -------------------------------------------------------------------


def judge(
    stable: ArmCounts, canary: ArmCounts, settings: AnalysisSettings | None = None
) -> Judgement:
    """Every tested metric's state, and the verdict over them."""
    settings = settings or AnalysisSettings()
    labels = sorted(set(stable.labels) | set(canary.labels)) or [""]
    arms = signals_of(stable, labels), signals_of(canary, labels)
    results = tuple(_result(name, arms, labels, settings) for name in settings.tested)
    codes = np.array([STATES.index(r.state) for r in results], dtype=np.int64)
    return Judgement(STATES[int(overall(codes))], results)


def signals_of(arm: ArmCounts, labels: Sequence[str]) -> Signals:
    """One arm's counts as arrays, its label counts in the order of `labels`."""
    return Signals(
        requests=_scalar(arm.requests),
        errors=_scalar(arm.errors),
        slow=_scalar(arm.slow),
        feedback_count=_scalar(arm.feedback_count),
        feedback_sum=_scalar(arm.feedback_sum),
        feedback_sum_squares=_scalar(arm.feedback_sum_squares),
        labels=np.array([float(arm.labels.get(label, 0)) for label in labels]),
    )


def _scalar(value: float) -> FloatArray:
    return np.asarray(float(value), dtype=np.float64)


def _result(
    name: str, arms: tuple[Signals, Signals], labels: list[str], s: AnalysisSettings
) -> MetricResult:
    t = s.tested[name]
    bounds = bounds_for(name, *arms, s)
    n_stable, n_canary = arms[0].samples(name), arms[1].samples(name)
    code = decide(bounds, n_stable, n_canary, thresholds=t, min_samples=s.min_samples)
    state, samples = STATES[int(code)], (int(n_stable), int(n_canary))
    if state == NO_DATA:
        arm = "stable" if samples[0] <= 0 else "canary"
        message = (
            f"{name} {NO_DATA}: no {UNITS[name]} on the {arm} arm yet "
            f"({samples[1]:,} canary, {samples[0]:,} stable): not judged"
        )
        return MetricResult(name, state, None, None, None, None, *samples, message)
    old, new, worsening, subject = _estimates(name, arms, labels)
    lower, upper = float(bounds.lower), float(bounds.upper)
    message = (
        f"{name} {state}: {subject}canary {new:.4f} vs stable {old:.4f} "
        f"({samples[1]:,} and {samples[0]:,} {UNITS[name]}); worsening {worsening:+.4f} "
        f"in [{lower:+.4f}, {upper:+.4f}] at alpha {s.metric_alpha:.3g}: "
        f"{_why(state, min(samples), t, s, unit=UNITS[name])}"
    )
    return MetricResult(name, state, old, new, lower, upper, *samples, message)


def _estimates(
    name: str, arms: tuple[Signals, Signals], labels: list[str]
) -> tuple[float, float, float, str]:
    """Stable's and canary's estimates, the worsening, and what it is about."""
    if name == LABEL_DRIFT:
        shares = [a.labels / max(float(a.labels.sum()), 1.0) for a in arms]
        most = int(np.argmax(np.abs(shares[1] - shares[0])))
        old, new = float(shares[0][most]), float(shares[1][most])
        return old, new, abs(new - old), f"label {labels[most]!r} "
    old, new = (float(sequences.mean(a.moments(name))) for a in arms)
    return old, new, old - new if name == REWARD else new - old, ""


def _why(state: str, fewest: int, t: Thresholds, s: AnalysisSettings, *, unit: str) -> str:
    if state == FAIL:
        return f"lower bound above {t.fail_above:g}, the canary is worse"
    if state == PASS:
        return f"upper bound below {t.pass_below:g}, the canary is no worse"
    if fewest < s.min_samples:
        return f"fewer than {s.min_samples:,} {unit} on an arm yet"
    return f"lower bound not above {t.fail_above:g} nor upper bound below {t.pass_below:g} yet"


# ---- the bandit ---------------------------------------------------------------------------


def probability_best(
    stable: ArmCounts,
    canary: ArmCounts,
    *,
    seed: int | Sequence[int],
    draws: int = 20_000,
    min_feedback: int = 100,
) -> float | None:
    """The canary's probability of the higher mean reward: Beta(1 + sum, 1 + count - sum)
    posteriors (fractional successes for rewards in [0, 1]), `draws` Thompson draws seeded by
    `seed` (the same seed, the same answer). None while an arm has fewer than `min_feedback`
    rewards: without data nothing moves."""
    _require(draws >= 1, "draws", "must be 1 or more")
    if min(stable.feedback_count, canary.feedback_count) < max(min_feedback, 1):
        return None
    rng = np.random.default_rng(seed)
    samples = [
        rng.beta(1 + a.feedback_sum, 1 + a.feedback_count - a.feedback_sum, size=draws)
        for a in (stable, canary)
    ]
    return float(np.mean(samples[1] > samples[0]))


def bandit_weight(p_best: float | None, *, current: int, floor: int, ceiling: int) -> int:
    """The canary's weight in percent: its probability of being best (Thompson sampling's
    share), within [floor, ceiling]; `current` while there is no probability yet."""
    _require(0 <= floor <= ceiling <= 100, "floor and ceiling", "need 0 <= floor <= ceiling <= 100")
    _require(0 <= current <= 100, "current", "must be a weight from 0 to 100")
    if p_best is None:
        return current
    _require(0 <= p_best <= 1, "p_best", "must be a probability from 0 to 1")
    return min(max(math.floor(100 * p_best + 0.5), floor), ceiling)
