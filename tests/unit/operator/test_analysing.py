"""The live analysis in next_decision: windows kept in status, verdicts acted upon, Bandit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hotswap_operator import conditions, deciding, specs, statuses
from hotswap_operator.statuses import AnalysisStatus, CanaryStatus, Counts, Pair, PodWindow
from hotswap_operator.windows import PodSample

from tests.unit.operator.builders import NEW, NOW, OLD, ago, condition, observed, spec, stepping

ANALYSIS_STEPS = [
    specs.Step(name="ten", set_weight=10),
    specs.Step(name="check", analysis=specs.AnalysisStep()),
    specs.Step(name="wait", pause=specs.Pause()),
]
LABELS = {"a": 1, "b": 1}


def counts(requests: int, *, errors: int = 0, rewards: tuple[int, int] = (0, 0)) -> Counts:
    count, total = rewards
    share = {label: requests // len(LABELS) for label in LABELS}
    return Counts(
        requests=requests,
        errors=errors,
        feedback_count=count,
        feedback_sum=float(total),
        feedback_sum_squares=float(total),  # 0/1 rewards: squares sum as the rewards do
        labels=share,
    )


def steps_spec(**analysis: object) -> specs.CanarySpec:
    strategy = specs.Strategy(type="Steps", steps=ANALYSIS_STEPS)
    found = spec(strategy=strategy)
    return replace(found, analysis=specs.Analysis(**analysis)) if analysis else found  # type: ignore[arg-type]


def window(**fields: object) -> AnalysisStatus:
    base = AnalysisStatus(
        canary_version=NEW,
        stable_version=OLD,
        started_at=ago(30),
        updated_at=ago(5),
        pods=[PodWindow("pod-0", "e0")],
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def at_step(step: int, *, started: int = 0, **fields: object) -> CanaryStatus:
    return stepping(step, 10, started=started, analysis=window(), **fields)


def look(stable: Counts, canary: Counts, **fields: object) -> object:
    sample = PodSample("pod-0", "e0", Pair(stable=stable, canary=canary))
    return observed(samples=[sample], **fields)


HEALTHY = (counts(20_000), counts(4_000))
BROKEN = (counts(20_000), counts(4_000, errors=400))


def test_an_analysis_step_holds_while_inconclusive_and_says_so() -> None:
    decision = deciding.next_decision(steps_spec(), at_step(1), look(counts(5), counts(1)), NOW)
    assert decision.status.current_step == 1, "expected the step to hold without enough data"
    assert condition(decision.status, "Progressing") == ("True", conditions.ANALYSING)
    assert decision.status.analysis is not None
    assert decision.status.analysis.verdict == statuses.INCONCLUSIVE


def test_an_analysis_step_advances_when_the_canary_passes() -> None:
    decision = deciding.next_decision(steps_spec(), at_step(1), look(*HEALTHY), NOW)
    window = decision.status.analysis
    assert window is not None and window.verdict == statuses.PASS, window
    assert decision.status.current_step == 2, "a Pass must advance the analysis step"
    last = decision.status.last_analysis
    assert last is not None and (last.kind, last.verdict) == ("Analysis", statuses.PASS)


def test_a_failing_canary_is_rolled_back_at_once_with_the_numbers() -> None:
    decision = deciding.next_decision(steps_spec(), at_step(1), look(*BROKEN), NOW)
    status = decision.status
    assert (status.stable_version, status.canary_version, status.weight) == (OLD, None, 0)
    assert condition(status, "Degraded") == ("True", conditions.ANALYSIS_FAILED)
    assert status.history[0].reason == conditions.ANALYSIS_FAILED
    last = status.last_analysis
    assert last is not None and last.metric == "errorRate" and last.verdict == statuses.FAIL
    assert last.canary == 0.1 and last.stable == 0.0, last
    assert last.lower is not None and last.lower > 0, f"the interval must exclude 0: {last}"
    warnings = [e.message for e in decision.events if e.type == "Warning"]
    assert any("errorRate" in m and "4,000" in m for m in warnings), warnings


def test_with_spec_analysis_a_steps_rollout_is_checked_during_a_pause_too() -> None:
    paused = at_step(2)
    checked = deciding.next_decision(steps_spec(alpha=0.05), paused, look(*BROKEN), NOW)
    assert condition(checked.status, "Degraded") == ("True", conditions.ANALYSIS_FAILED)
    unchecked = deciding.next_decision(steps_spec(), paused, look(*BROKEN), NOW)
    assert unchecked.status.canary_version == NEW, "without spec.analysis a pause only pauses"
    assert unchecked.status.analysis is not None
    assert unchecked.status.analysis.verdict == statuses.FAIL, "the verdict is still shown"


def test_missing_data_is_never_a_failure() -> None:
    no_pods = deciding.next_decision(steps_spec(alpha=0.05), at_step(2), observed(), NOW)
    assert no_pods.status.canary_version == NEW
    broken = observed(source="Prometheus", source_error="Prometheus did not answer")
    failed_source = deciding.next_decision(steps_spec(alpha=0.05), at_step(2), broken, NOW)
    assert failed_source.status.canary_version == NEW
    assert failed_source.status.analysis is not None
    assert "did not answer" in failed_source.status.analysis.message


def run_out(choice: str) -> CanaryStatus:
    s = steps_spec(on_inconclusive=choice, max_duration_seconds=60)
    late = at_step(1, started=61)
    return deciding.next_decision(s, late, look(counts(5), counts(1)), NOW).status


def test_still_inconclusive_at_the_maximum_duration_follows_on_inconclusive() -> None:
    paused = run_out(specs.PAUSE)
    assert paused.current_step == 1
    assert condition(paused, "Progressing") == ("True", conditions.ANALYSIS_INCONCLUSIVE)
    rolled_back = run_out(specs.ROLLBACK)
    assert (rolled_back.stable_version, rolled_back.canary_version) == (OLD, None)
    assert condition(rolled_back, "Degraded") == ("True", conditions.ANALYSIS_INCONCLUSIVE)
    promoted = run_out(specs.PROMOTE)
    assert promoted.current_step == 2, "Promote moves past the analysis step"


def test_before_the_maximum_duration_an_inconclusive_step_still_holds() -> None:
    s = steps_spec(on_inconclusive=specs.ROLLBACK, max_duration_seconds=60)
    early = at_step(1, started=59)
    decision = deciding.next_decision(s, early, look(counts(5), counts(1)), NOW)
    assert decision.status.canary_version == NEW and decision.status.current_step == 1


def test_the_window_in_status_is_resumed_not_reopened() -> None:
    first = deciding.next_decision(steps_spec(), at_step(1), look(counts(50), counts(5)), NOW)
    assert first.status.analysis is not None
    assert first.status.analysis.started_at == ago(30), "a restarted operator resumes the window"
    assert first.status.analysis.totals.canary.requests == 5


def test_a_new_rollout_opens_a_new_window() -> None:
    stale = window(started_at=ago(120))  # older than the rollout (started 60 s ago)
    status = stepping(1, 10, analysis=stale)
    decision = deciding.next_decision(steps_spec(), status, look(counts(50), counts(5)), NOW)
    assert decision.status.analysis is not None
    assert decision.status.analysis.started_at == ago(0), "expected a window opened now"
    assert decision.status.analysis.totals == Pair(), "the first look is the baseline"


def test_an_idle_look_writes_nothing_until_the_interval() -> None:
    held = at_step(1)
    first = deciding.next_decision(steps_spec(), held, look(counts(5), counts(1)), NOW)
    again = deciding.next_decision(
        steps_spec(), first.status, look(counts(6), counts(1)), NOW + timedelta(seconds=1)
    )
    assert again.status == first.status, "a look within intervalSeconds must not write status"
    later = deciding.next_decision(
        steps_spec(), first.status, look(counts(6), counts(1)), NOW + timedelta(seconds=11)
    )
    assert later.status.analysis != first.status.analysis, "after the interval it is written"


def test_no_ready_pod_confirms_nothing() -> None:
    none = deciding.next_decision(
        spec(steps=True), stepping(0, 0), observed(pods=[], routing_matches=True), NOW
    )
    assert none.status.current_step == 0, "0 pods must not count as converged"
    assert condition(none.status, "Progressing") == ("True", conditions.NO_READY_PODS)
    one = deciding.next_decision(spec(steps=True), stepping(0, 0), observed(), NOW)
    assert one.status.weight == 10, "with ready pods that confirm, the step proceeds"


def bandit_spec() -> specs.CanarySpec:
    bandit = specs.Bandit(min_feedback=50, update_interval_seconds=10)
    return spec(strategy=specs.Strategy(type=specs.BANDIT, bandit=bandit))


def bandit_status(weight: int = 10, *, moved: int = 60) -> CanaryStatus:
    return replace(stepping(0, weight, started=moved, analysis=window()), current_step=None)


def test_bandit_starts_at_its_initial_weight() -> None:
    before = replace(stepping(0, 0), canary_version=None, current_step=None, rollout=None)
    decision = deciding.next_decision(bandit_spec(), before, observed(), NOW)
    status = decision.status
    assert (status.canary_version, status.weight, status.current_step) == (NEW, 10, None)


def test_bandit_never_moves_weight_without_data() -> None:
    decision = deciding.next_decision(bandit_spec(), bandit_status(), look(*HEALTHY), NOW)
    assert decision.status.weight == 10
    assert condition(decision.status, "Progressing") == ("True", conditions.BANDIT_ADJUSTING)


def test_bandit_moves_weight_towards_the_better_arm_within_floor_and_ceiling() -> None:
    stable = counts(2_000, rewards=(200, 150))
    canary = counts(400, rewards=(60, 48))  # 0.80 vs 0.75: likely better, not yet sure
    decision = deciding.next_decision(bandit_spec(), bandit_status(), look(stable, canary), NOW)
    window = decision.status.analysis
    assert window is not None and window.canary_best_probability is not None
    assert 0.5 < window.canary_best_probability < 0.95, window.canary_best_probability
    assert 10 < decision.status.weight <= 50, f"expected a higher weight, saw {decision.status}"
    recent = deciding.next_decision(
        bandit_spec(), bandit_status(moved=5), look(stable, canary), NOW
    )
    assert recent.status.weight == 10, "the weight moves at most every updateIntervalSeconds"


def test_bandit_promotes_a_clearly_better_canary_and_rolls_back_a_worse_one() -> None:
    good = counts(20_000, rewards=(2_000, 1_500)), counts(4_000, rewards=(2_000, 1_800))
    promoted = deciding.next_decision(bandit_spec(), bandit_status(), look(*good), NOW).status
    assert (promoted.stable_version, promoted.canary_version) == (NEW, None), promoted
    bad = counts(20_000, rewards=(2_000, 1_800)), counts(4_000, rewards=(2_000, 1_500))
    failed = deciding.next_decision(bandit_spec(), bandit_status(), look(*bad), NOW).status
    assert (failed.stable_version, failed.canary_version) == (OLD, None), failed
    assert condition(failed, "Degraded") == ("True", conditions.ANALYSIS_FAILED), (
        "reward proven worse"
    )
    no_reward_test = replace(
        bandit_spec(), analysis=specs.Analysis(reward=specs.Check(enabled=False))
    )
    rejected = deciding.next_decision(no_reward_test, bandit_status(), look(*bad), NOW).status
    assert (rejected.stable_version, rejected.canary_version) == (OLD, None), rejected
    assert condition(rejected, "Degraded") == ("True", conditions.BANDIT_REJECTED)
