"""strategy Bandit: Thompson sampling over stable and canary on the feedback reward.

The canary starts at `initialWeight`. Once each arm has `minFeedback` rewards, every
`updateIntervalSeconds` its weight becomes its probability of having the higher mean reward,
kept between `floor` and `ceiling`. It is promoted when that probability reaches
`promoteProbability` and it is not worse on errors and latency (those checks Pass); it is
rolled back when the probability falls to 1 - `promoteProbability`, and at once on any Fail
(`analysing.fail_by_analysis`). The weight never moves without data.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hotswap_operator import conditions, reasons, situations, statistics, stepping
from hotswap_operator.decisions import Decision
from hotswap_operator.situations import Situation
from hotswap_operator.specs import BANDIT, Bandit
from hotswap_operator.statuses import NO_DATA, PASS, AnalysisStatus

GUARDS = ("errorRate", "slowRate")  # promotion needs these not worse


def run_bandit(s: Situation) -> Decision | None:
    if s.spec.strategy.type != BANDIT or s.status.canary_version != s.target:
        return None
    if not s.verdict.converged:
        return situations.wait_for_pods(s, s.status, "report the declared routing")
    window, bandit = s.analysis, s.spec.strategy.bandit
    if window is None or window.canary_best_probability is None or not has_data(window, bandit):
        message = (
            f"bandit: {s.target} answers {s.status.weight}% until each arm has "
            f"{bandit.min_feedback} rewards"
        )
        return situations.progressing(s, s.status, reasons.BANDIT_ADJUSTING, message)
    best = window.canary_best_probability
    if best >= bandit.promote_probability and guards_pass(window):
        return stepping.promote(s)
    if best <= 1 - bandit.promote_probability:
        message = f"bandit: P({s.target} has the higher reward) = {best:.3f}; {window.message}"
        return situations.abort(s, s.status, reasons.BANDIT_REJECTED, message)
    return adjust(s, window, bandit, best)


def has_data(window: AnalysisStatus, bandit: Bandit) -> bool:
    totals = window.totals
    return min(totals.stable.feedback_count, totals.canary.feedback_count) >= bandit.min_feedback


def guards_pass(window: AnalysisStatus) -> bool:
    states = {m.name: m.state for m in window.metrics}
    return all(states.get(name, NO_DATA) in (PASS, NO_DATA) for name in GUARDS)


def adjust(s: Situation, window: AnalysisStatus, bandit: Bandit, best: float) -> Decision:
    weight = statistics.bandit_weight(
        best, current=s.status.weight, floor=bandit.floor, ceiling=bandit.ceiling
    )
    last = s.status.step_started_at
    due = last is None or s.now >= conditions.parse_stamp(last) + timedelta(
        seconds=bandit.update_interval_seconds
    )
    status = s.status
    if due and weight != status.weight:
        status = replace(status, weight=weight, step_started_at=s.stamp)
    message = f"bandit: {s.target} answers {status.weight}% (status.analysis)"
    return situations.progressing(s, status, reasons.BANDIT_ADJUSTING, message)
