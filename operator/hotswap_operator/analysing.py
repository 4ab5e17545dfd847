"""Live analysis of a rollout: the window brought up to date and judged.

`look` runs before the rules on every reconcile (`deciding.next_decision`): it opens the window
when a canary takes traffic, adds what the pods (or Prometheus) report, and judges canary
against stable with the anytime-valid tests of `statistics` (docs/analysis.md). The rules in
`deciding` then act on the verdict: `fail_by_analysis` rolls back at once on Fail (continuously
when spec.analysis is set, during an analysis step, and under Bandit); an analysis step advances
on Pass and follows `onInconclusive` when it runs out of time. Missing data is never a failure.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import replace

from hotswap_operator import conditions, statistics, windows
from hotswap_operator.observations import Observation
from hotswap_operator.specs import BANDIT, STEPS, Analysis, CanarySpec, Check, Step
from hotswap_operator.statuses import (
    AnalysisStatus,
    CanaryStatus,
    Counts,
    LastAnalysis,
    MetricState,
)


def look(
    spec: CanarySpec, status: CanaryStatus, observed: Observation, stamp: str
) -> AnalysisStatus | None:
    """The window of the canary serving now, up to date and judged; None without a canary."""
    window = current_window(spec, status, observed.source, stamp)
    if window is None:
        return None
    if observed.source_error is not None:  # missing data is never a failure: hold as it was
        return replace(window, message=f"the analysis source failed: {observed.source_error}")
    if observed.totals is not None:
        window = windows.with_totals(window, observed.totals)
    elif observed.samples is not None:
        window = windows.add_samples(window, observed.samples)
    return judge(window, settings_of(spec, status), spec, stamp)


def current_window(
    spec: CanarySpec, status: CanaryStatus, source: str, stamp: str
) -> AnalysisStatus | None:
    canary, stable, rollout = status.canary_version, status.stable_version, status.rollout
    if canary is None or stable is None or rollout is None:
        return None
    window = status.analysis
    if window is not None and same_rollout(window, canary, stable, rollout.started_at):
        return window
    return windows.open_window(
        stable=stable, canary=canary, stamp=stamp, source=source, rollout_started=rollout.started_at
    )


def same_rollout(window: AnalysisStatus, canary: str, stable: str, started: str) -> bool:
    """The window belongs to this rollout: same arms, opened after it started."""
    if (window.canary_version, window.stable_version) != (canary, stable):
        return False
    return conditions.parse_stamp(window.started_at) >= conditions.parse_stamp(started)


def settings_of(spec: CanarySpec, status: CanaryStatus) -> Analysis:
    """spec.analysis (or its defaults), with the running analysis step's overrides."""
    analysis = spec.analysed
    step = analysis_step(spec, status)
    if step is not None and step.analysis and step.analysis.min_requests is not None:
        analysis = replace(analysis, min_samples=step.analysis.min_requests)
    return analysis


def analysis_step(spec: CanarySpec, status: CanaryStatus) -> Step | None:
    """The analysis step running now, if one is."""
    steps = spec.strategy.steps if spec.strategy.type == STEPS else []
    index = status.current_step
    if index is None or not 0 <= index < len(steps) or steps[index].analysis is None:
        return None
    return steps[index]


def judge(
    window: AnalysisStatus, analysis: Analysis, spec: CanarySpec, stamp: str
) -> AnalysisStatus:
    stable, canary = counts_of(window.totals.stable), counts_of(window.totals.canary)
    judgement = statistics.judge(stable, canary, settings_for(analysis))
    best = None
    if spec.strategy.type == BANDIT:
        bandit = spec.strategy.bandit
        best = statistics.probability_best(
            stable, canary, seed=seed_of(window), min_feedback=bandit.min_feedback
        )
    return replace(
        window,
        updated_at=stamp,
        verdict=judgement.verdict,
        message=judgement.message,
        metrics=[metric_state(result) for result in judgement.metrics],
        canary_best_probability=best,
    )


def seed_of(window: AnalysisStatus) -> list[int]:
    """Same window, same counts: the same draws (a repeated or resumed look decides the same)."""
    totals = window.totals
    opened = zlib.crc32(window.started_at.encode())
    return [opened, totals.stable.feedback_count, totals.canary.feedback_count]


def counts_of(counts: Counts) -> statistics.ArmCounts:
    """The statistics' view of one arm (errors and slow within requests, as they must be)."""
    return statistics.ArmCounts(
        requests=counts.requests,
        errors=min(counts.errors, counts.requests),
        slow=min(counts.slow, counts.requests),
        feedback_count=counts.feedback_count,
        feedback_sum=min(max(counts.feedback_sum, 0.0), float(counts.feedback_count)),
        feedback_sum_squares=min(max(counts.feedback_sum_squares, 0.0), counts.feedback_sum),
        labels=counts.labels,
    )


def settings_for(analysis: Analysis) -> statistics.AnalysisSettings:
    """spec.analysis as the statistics take it; unset thresholds keep their defaults."""
    defaults = statistics.AnalysisSettings()
    drift = analysis.label_drift
    shift = drift.max_shift if drift.max_shift is not None else defaults.label_drift.fail_above
    return statistics.AnalysisSettings(
        alpha=analysis.alpha,
        min_samples=analysis.min_samples,
        error_rate=thresholds_of(analysis.error_rate, defaults.error_rate),
        slow_rate=thresholds_of(analysis.slow_rate, defaults.slow_rate),
        reward=thresholds_of(analysis.reward, defaults.reward),
        label_drift=replace(
            defaults.label_drift, fail_above=shift, pass_below=shift, enabled=drift.enabled
        ),
    )


def thresholds_of(check: Check, default: statistics.Thresholds) -> statistics.Thresholds:
    return replace(
        default,
        enabled=check.enabled,
        fail_above=default.fail_above if check.fail_above is None else check.fail_above,
        pass_below=default.pass_below if check.pass_below is None else check.pass_below,
    )


def metric_state(result: statistics.MetricResult) -> MetricState:
    return MetricState(
        name=result.metric,
        state=result.state,
        message=result.message,
        stable=finite(result.stable),
        canary=finite(result.canary),
        lower=finite(result.lower),
        upper=finite(result.upper),
        stable_samples=result.stable_samples,
        canary_samples=result.canary_samples,
    )


def finite(value: float | None) -> float | None:
    """JSON (and so status) holds no infinity or NaN: those are left out."""
    return value if value is not None and math.isfinite(value) else None


def last_analysis(
    window: AnalysisStatus, metric: MetricState | None, *, stamp: str
) -> LastAnalysis:
    return LastAnalysis(
        kind="Analysis",
        verdict=window.verdict,
        message=window.message,
        time=stamp,
        metric=metric.name if metric else None,
        stable=metric.stable if metric else None,
        canary=metric.canary if metric else None,
        lower=metric.lower if metric else None,
        upper=metric.upper if metric else None,
    )
