"""Rollout analysis statistics: each bound against a scipy reference, each decision on both sides
of its boundary, zero variance and missing data, and seeded simulations of the error control."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hotswap_operator import sequences
from hotswap_operator import statistics as st
from hotswap_operator.sequences import Bounds, Moments
from hotswap_operator.statistics import AnalysisSettings, ArmCounts, Thresholds
from scipy import integrate, optimize
from scipy import stats as sps

FAIL, PASS, INCONCLUSIVE, NO_DATA = (
    st.STATES.index(s) for s in (st.FAIL, st.PASS, st.INCONCLUSIVE, st.NO_DATA)
)


def a(value: float) -> np.ndarray:
    return np.asarray(float(value))


# ---- the boundary against its definition --------------------------------------------------


def reference_width(variance: float, *, alpha: float, scale: float) -> float:
    """The one-sided normal-mixture boundary from its definition: exp(l S - l^2 I / 2) mixed
    over l >= 0 by a half-normal of sd 1 / scale (I = 1 / variance, the information),
    integrated by quad, solved for mixture(S) = 1 / alpha by brentq, returned as S / I."""
    information = 1 / variance

    def mixture(s: float) -> float:
        peak, spread = s / information, 1 / math.sqrt(information)
        value, _ = integrate.quad(
            lambda lam: (
                math.exp(lam * s - lam * lam * information / 2) * 2 * sps.norm.pdf(lam, scale=scale)
            ),
            0,
            max(peak, 0) + 40 * spread + 10 * scale,
            points=[max(peak, 0)],
            limit=200,
        )
        return float(value)

    top = 10 * math.sqrt(information + 1 / scale**2)
    s = optimize.brentq(lambda s: math.log(mixture(s) * alpha), 0, top, xtol=1e-12)
    return float(s) / information


@pytest.mark.parametrize(
    ("variance", "alpha", "scale"),
    [(1e-4, 0.0125, 0.01), (1e-5, 0.05, 0.01), (4e-3, 0.0125, 0.05), (2.5e-5, 0.001, 0.1)],
)
def test_mixture_width_is_the_normal_mixture_boundary(
    variance: float, alpha: float, scale: float
) -> None:
    seen = float(sequences.mixture_width(a(variance), alpha=alpha, scale=scale))
    expected = reference_width(variance, alpha=alpha, scale=scale)
    assert seen == pytest.approx(expected, rel=1e-6), f"expected {expected}, saw {seen}"


def test_mixture_width_narrows_with_data_and_only_widens_for_skew() -> None:
    widths = sequences.mixture_width(np.array([1e-3, 1e-4, 1e-5]), alpha=0.05, scale=0.01)
    assert widths[0] > widths[1] > widths[2], f"expected narrower with less variance: {widths}"
    plain = float(sequences.mixture_width(a(1e-4), alpha=0.05, scale=0.01))
    skewed = float(sequences.mixture_width(a(1e-4), alpha=0.05, scale=0.01, skew=0.5))
    away = float(sequences.mixture_width(a(1e-4), alpha=0.05, scale=0.01, skew=-0.5))
    assert skewed > plain, f"a heavy tail on this side widens: {skewed} vs {plain}"
    assert away == plain, f"a light tail never narrows it: {away} vs {plain}"


def test_gaussian_walk_crosses_the_boundary_at_most_alpha_of_the_time() -> None:
    """Ville's guarantee, looked at after every observation: 300 walks of 2,000 N(0, 1) steps.
    Its twin, a fixed-sample one-sided z test looked at the same way, crosses far more often."""
    rng = np.random.default_rng(11)
    steps = np.arange(1, 2001)
    means = rng.standard_normal((300, 2000)).cumsum(1) / steps
    width = sequences.mixture_width(1.0 / steps, alpha=0.05, scale=0.1)
    crossed = (means > width).any(1).mean()
    naive = (means > 1.645 / np.sqrt(steps)).any(1).mean()
    assert crossed <= 0.05 + 0.03, f"expected at most alpha (+ Monte Carlo slack), saw {crossed}"
    assert naive > 0.2, f"premise: repeated fixed-sample tests inflate errors, saw {naive}"


# ---- bounds against hand-computed values ----------------------------------------------------


def test_rate_bounds_use_the_pooled_variance_at_the_fail_threshold() -> None:
    """Half the requests fail on both arms: the pooled variance is 0.25 (1/n + 1/n) and a
    rate of 0.5 has no skew, so each bound is the plain mixture width of it."""
    stable, canary = Moments(a(1000), a(500), a(500)), Moments(a(1000), a(500), a(500))
    bounds = sequences.rate_bounds(
        stable, canary, alpha=0.0125, fail_above=0.0, pass_below=0.0, scale=0.01
    )
    width = reference_width(0.25 * (2 / 1000), alpha=0.0125, scale=0.01)
    assert float(bounds.lower) == pytest.approx(-width, rel=1e-6)
    assert float(bounds.upper) == pytest.approx(width, rel=1e-6)


def test_rate_bounds_evaluate_the_variance_where_each_threshold_puts_the_arms() -> None:
    """Stable 90/9,000, canary 20/1,000: the lower bound's variance has both arms at the pooled
    rate 110/10,000; the upper bound's (pass_below 0.01) has canary = stable + 0.01 with
    (110 - 1,000 * 0.01) / 10,000 for stable; Cornish-Fisher widens by the Bernoulli skew."""
    stable, canary = Moments(a(9000), a(90), a(90)), Moments(a(1000), a(20), a(20))
    bounds = sequences.rate_bounds(
        stable, canary, alpha=0.0125, fail_above=0.0, pass_below=0.01, scale=0.01
    )

    def width(p_stable: float, p_canary: float, tail: int) -> float:
        v_s, v_c = p_stable * (1 - p_stable) / 9000, p_canary * (1 - p_canary) / 1000
        variance = v_s + v_c
        third = v_c * (1 - 2 * p_canary) / 1000 - v_s * (1 - 2 * p_stable) / 9000
        z = reference_width(variance, alpha=0.0125, scale=0.01) / math.sqrt(
            variance + variance**2 / 0.01**2
        )
        z += max(0.0, tail * third / variance**1.5 * (z * z - 1) / 6)
        return float(z * math.sqrt(variance + variance**2 / 0.01**2))

    pooled, shifted = 110 / 10_000, (110 - 10) / 10_000
    assert float(bounds.lower) == pytest.approx(0.01 - width(pooled, pooled, 1), rel=1e-6)
    assert float(bounds.upper) == pytest.approx(0.01 + width(shifted, shifted + 0.01, -1), rel=1e-6)


def test_reward_bounds_are_stable_minus_canary() -> None:
    """Worsening is stable's mean minus canary's: a lower canary reward is positive."""
    stable, canary = Moments(a(5000), a(4000), a(4000)), Moments(a(5000), a(3500), a(3500))
    bounds = sequences.reward_bounds(
        stable, canary, alpha=0.0125, fail_above=0.0, pass_below=0.02, scale=0.05
    )
    assert 0 < float(bounds.lower) < 0.1 < float(bounds.upper) < 0.2, bounds
    flipped = sequences.reward_bounds(
        canary, stable, alpha=0.0125, fail_above=0.0, pass_below=0.02, scale=0.05
    )
    assert float(flipped.upper) < 0, f"a better canary is a negative worsening: {flipped}"


def test_drift_bounds_take_the_largest_label_shift_with_bonferroni_over_labels() -> None:
    """One label's shift: the bounds are those of that label's share difference at
    alpha / (2 L), against +-max_shift."""
    stable, canary = np.array([5000.0, 2500.0, 2500.0]), np.array([300.0, 350.0, 350.0])
    bounds = sequences.drift_bounds(
        stable, canary, alpha=0.0125, fail_above=0.1, pass_below=0.1, scale=0.1
    )
    label = sequences.rate_bounds(
        Moments(a(10_000), a(5000), a(5000)),
        Moments(a(1000), a(300), a(300)),
        alpha=0.0125 / 6,
        fail_above=-0.1,
        pass_below=-0.1,
        scale=0.1,
    )
    assert float(bounds.lower) == pytest.approx(-float(label.upper), rel=1e-9)
    assert float(bounds.upper) == pytest.approx(-float(label.lower), rel=1e-9)
    assert float(bounds.lower) > 0.1, f"a 0.2 shift on 1,000 predictions is proven: {bounds}"


# ---- decisions, both sides of every boundary ------------------------------------------------

T = Thresholds(fail_above=0.0, pass_below=0.01)
DECISIONS = [  # name, (lower, upper), (stable samples, canary samples), state
    ("lower just above fail_above fails", (1e-9, 0.5), (500, 500), FAIL),
    ("lower at fail_above does not fail", (0.0, 0.5), (500, 500), INCONCLUSIVE),
    ("upper just below pass_below passes", (-0.5, 0.01 - 1e-9), (500, 500), PASS),
    ("upper at pass_below does not pass", (-0.5, 0.01), (500, 500), INCONCLUSIVE),
    ("both proven: Fail wins", (0.001, 0.005), (500, 500), FAIL),
    ("min_samples on both arms is judged", (0.1, 0.2), (100, 100), FAIL),
    ("one short of min_samples on the canary holds", (0.1, 0.2), (100, 99), INCONCLUSIVE),
    ("one short of min_samples on the stable holds", (0.1, 0.2), (99, 100), INCONCLUSIVE),
    ("no canary samples is NoData", (0.1, 0.2), (100, 0), NO_DATA),
    ("no stable samples is NoData", (0.1, 0.2), (0, 100), NO_DATA),
]


@pytest.mark.parametrize(
    ("name", "bounds", "samples", "state"), DECISIONS, ids=[d[0] for d in DECISIONS]
)
def test_decide(
    name: str, bounds: tuple[float, float], samples: tuple[int, int], state: int
) -> None:
    both = Bounds(a(bounds[0]), a(bounds[1]))
    seen = int(st.decide(both, a(samples[0]), a(samples[1]), thresholds=T, min_samples=100))
    assert seen == state, f"{name}: expected {st.STATES[state]}, saw {st.STATES[seen]}"


VERDICTS = [
    ("a Fail fails whatever else", [PASS, FAIL, NO_DATA], FAIL),
    ("all pass", [PASS, PASS], PASS),
    ("NoData does not block a Pass", [PASS, NO_DATA], PASS),
    ("one Inconclusive holds", [PASS, INCONCLUSIVE], INCONCLUSIVE),
    ("nothing but NoData holds", [NO_DATA, NO_DATA], INCONCLUSIVE),
]


@pytest.mark.parametrize(("name", "states", "verdict"), VERDICTS, ids=[v[0] for v in VERDICTS])
def test_overall(name: str, states: list[int], verdict: int) -> None:
    seen = int(st.overall(np.array(states)))
    assert seen == verdict, f"{name}: expected {st.STATES[verdict]}, saw {st.STATES[seen]}"


# ---- judge: one window ----------------------------------------------------------------------


def arm(
    n: int,
    *,
    errors: float = 0.0,
    slow: float = 0.0,
    reward: float | None = None,
    labels: dict[str, float] | None = None,
) -> ArmCounts:
    """n requests with the given rates; every request gets feedback when reward is set (0/1)."""
    feedback = round(n * reward) if reward is not None else 0
    return ArmCounts(
        requests=n,
        errors=round(n * errors),
        slow=round(n * slow),
        feedback_count=n if reward is not None else 0,
        feedback_sum=feedback,
        feedback_sum_squares=feedback,
        labels={k: round(n * v) for k, v in (labels or {}).items()},
    )


def states_of(judgement: st.Judgement) -> dict[str, str]:
    return {m.metric: m.state for m in judgement.metrics}


def test_a_doubled_error_rate_fails_naming_the_numbers() -> None:
    judgement = st.judge(arm(18_000, errors=0.01), arm(2000, errors=0.02))
    result = judgement.metrics[0]
    assert judgement.verdict == st.FAIL and result.metric == st.ERROR_RATE, judgement
    assert (result.stable, result.canary) == pytest.approx((0.01, 0.02))
    assert (
        result.lower is not None
        and result.upper is not None
        and 0 < result.lower < 0.01 < result.upper
    )
    assert (result.stable_samples, result.canary_samples) == (18_000, 2000)
    for text in (
        "errorRate",
        "0.0200",
        "0.0100",
        "2,000",
        "18,000",
        f"{result.lower:+.4f}",
        f"{result.upper:+.4f}",
    ):
        assert text in result.message, f"expected {text!r} in {result.message!r}"
    assert result.message in judgement.message


def test_equal_arms_pass_and_a_small_window_holds() -> None:
    same = {"errors": 0.01, "slow": 0.05, "reward": 0.8, "labels": {"a": 0.5, "b": 0.3, "c": 0.2}}
    big = st.judge(arm(180_000, **same), arm(20_000, **same))  # type: ignore[arg-type]
    assert big.verdict == st.PASS, big.message
    small = st.judge(arm(900, **same), arm(100, **same))  # type: ignore[arg-type]
    assert small.verdict == st.INCONCLUSIVE, small.message
    assert set(states_of(small).values()) == {st.INCONCLUSIVE}, small.message


def test_min_samples_holds_a_clear_failure_until_both_arms_have_it() -> None:
    settings = AnalysisSettings(min_samples=100)
    short = st.judge(arm(10_000, errors=0.0), ArmCounts(requests=99, errors=60), settings)
    enough = st.judge(arm(10_000, errors=0.0), ArmCounts(requests=100, errors=60), settings)
    assert states_of(short)[st.ERROR_RATE] == st.INCONCLUSIVE, short.message
    assert "fewer than 100 requests" in short.metrics[0].message
    assert states_of(enough)[st.ERROR_RATE] == st.FAIL, enough.message


def test_zero_errors_on_both_arms_is_no_proof_until_there_is_enough() -> None:
    """Error rates of 0 on both arms: finite bounds, never a Fail; a Pass only once 1% more
    errors on the canary would have shown (a few thousand requests), not at min_samples."""
    few = st.judge(ArmCounts(requests=900), ArmCounts(requests=100))
    many = st.judge(ArmCounts(requests=45_000), ArmCounts(requests=5000))
    lower, upper = few.metrics[0].lower, few.metrics[0].upper
    assert lower is not None and upper is not None and math.isfinite(lower) and upper > 0.01
    assert states_of(few)[st.ERROR_RATE] == st.INCONCLUSIVE, few.message
    assert states_of(many)[st.ERROR_RATE] == st.PASS, many.message


def test_everything_failing_on_both_arms_is_no_failure() -> None:
    judgement = st.judge(
        ArmCounts(requests=9000, errors=9000), ArmCounts(requests=1000, errors=1000)
    )
    result = judgement.metrics[0]
    assert result.state != st.FAIL and result.lower is not None and math.isfinite(result.lower)


@pytest.mark.parametrize("reward", [1.0, 0.7])
def test_identical_rewards_are_no_proof_until_there_is_enough(reward: float) -> None:
    def rewards(n: int) -> ArmCounts:
        return ArmCounts(
            feedback_count=n, feedback_sum=n * reward, feedback_sum_squares=n * reward**2
        )

    few = st.judge(rewards(100), rewards(100))
    many = st.judge(rewards(100_000), rewards(100_000))
    assert states_of(few)[st.REWARD] == st.INCONCLUSIVE, few.message
    assert states_of(many)[st.REWARD] == st.PASS, many.message


def test_reward_both_directions() -> None:
    worse = st.judge(arm(10_000, reward=0.8), arm(5000, reward=0.7))
    better = st.judge(arm(10_000, reward=0.8), arm(5000, reward=0.85))
    assert states_of(worse)[st.REWARD] == st.FAIL, worse.message
    assert states_of(better)[st.REWARD] == st.PASS, better.message
    result = worse.metrics[2]
    assert (result.stable, result.canary) == pytest.approx((0.8, 0.7)) and result.lower is not None
    assert result.lower > 0, f"a lower canary reward is a positive worsening: {result}"


def test_label_drift_fails_on_a_moved_label_and_passes_when_the_same() -> None:
    before = {"refund": 0.5, "order": 0.3, "other": 0.2}
    moved = st.judge(
        arm(9000, labels=before), arm(1000, labels={"refund": 0.3, "order": 0.3, "other": 0.4})
    )
    same = st.judge(arm(90_000, labels=before), arm(10_000, labels=before))
    new_label = st.judge(
        arm(9000, labels=before), arm(1000, labels={"refund": 0.5, "order": 0.3, "brand-new": 0.2})
    )
    drift = moved.metrics[3]
    assert drift.state == st.FAIL and ("'refund'" in drift.message or "'other'" in drift.message)
    assert states_of(same)[st.LABEL_DRIFT] == st.PASS, same.message
    assert states_of(new_label)[st.LABEL_DRIFT] == st.FAIL, new_label.message


def test_missing_data_is_never_a_failure() -> None:
    """No feedback and no labels on the canary: those metrics are NoData and the rest decide."""
    stable = arm(180_000, errors=0.01, reward=0.8, labels={"a": 1.0})
    canary = arm(20_000, errors=0.01)
    judgement = st.judge(stable, canary)
    states = states_of(judgement)
    assert states[st.REWARD] == states[st.LABEL_DRIFT] == st.NO_DATA, judgement.message
    reward = judgement.metrics[2]
    assert reward.lower is reward.upper is reward.canary is None and "canary arm" in reward.message
    assert judgement.verdict == st.PASS, judgement.message
    empty = st.judge(ArmCounts(), ArmCounts())
    assert empty.verdict == st.INCONCLUSIVE and set(states_of(empty).values()) == {st.NO_DATA}


def test_alpha_is_split_over_the_tested_metrics_only() -> None:
    off = Thresholds(0.0, 0.01, enabled=False)
    one = AnalysisSettings(slow_rate=off, reward=off, label_drift=off)
    assert AnalysisSettings().metric_alpha == pytest.approx(0.05 / 4)
    assert one.metric_alpha == pytest.approx(0.05)
    judgement = st.judge(arm(1000), arm(1000), one)
    assert [m.metric for m in judgement.metrics] == [st.ERROR_RATE]
    wide = st.judge(arm(9000, errors=0.01), arm(1000, errors=0.02)).metrics[0]
    narrow = st.judge(arm(9000, errors=0.01), arm(1000, errors=0.02), one).metrics[0]
    assert narrow.lower is not None and wide.lower is not None and narrow.lower > wide.lower


def test_judge_decides_as_the_vectorised_functions_do() -> None:
    """judge on one window decides as rate_bounds and decide do on arrays."""
    rng = np.random.default_rng(5)
    for _ in range(20):
        n_s, n_c = (int(x) for x in rng.integers(50, 5000, 2))
        e_s, e_c = int(rng.binomial(n_s, 0.02)), int(rng.binomial(n_c, 0.03))
        result = st.judge(
            ArmCounts(requests=n_s, errors=e_s), ArmCounts(requests=n_c, errors=e_c)
        ).metrics[0]
        settings = AnalysisSettings()
        bounds = sequences.rate_bounds(
            Moments(a(n_s), a(e_s), a(e_s)),
            Moments(a(n_c), a(e_c), a(e_c)),
            alpha=settings.metric_alpha,
            fail_above=0.0,
            pass_below=0.01,
            scale=st.SCALES[st.ERROR_RATE],
        )
        code = st.decide(bounds, a(n_s), a(n_c), thresholds=settings.error_rate, min_samples=100)
        assert (result.lower, result.upper) == (float(bounds.lower), float(bounds.upper))
        assert result.state == st.STATES[int(code)]


# ---- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: ArmCounts(requests=10, errors=11), "ArmCounts.errors"),
        (lambda: ArmCounts(requests=10, slow=11), "ArmCounts.slow"),
        (lambda: ArmCounts(requests=-1), "ArmCounts.requests"),
        (lambda: ArmCounts(feedback_count=2, feedback_sum=3), "ArmCounts.feedback_sum"),
        (
            lambda: ArmCounts(feedback_count=2, feedback_sum=1, feedback_sum_squares=1.5),
            "ArmCounts.feedback_sum_squares",
        ),
        (lambda: ArmCounts(labels={"a": -1}), "ArmCounts.labels"),
        (lambda: Thresholds(0.0, 0.01, scale=0.0), "Thresholds.scale"),
        (lambda: Thresholds(math.nan, 0.01), "Thresholds.fail_above"),
        (lambda: AnalysisSettings(alpha=0.0), "AnalysisSettings.alpha"),
        (lambda: AnalysisSettings(min_samples=0), "AnalysisSettings.min_samples"),
    ],
)
def test_bad_input_names_the_field(make: object, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make()  # type: ignore[operator]


def test_good_input_at_the_edges_is_accepted() -> None:
    ArmCounts(
        requests=10, errors=10, slow=10, feedback_count=2, feedback_sum=2, feedback_sum_squares=2
    )
    ArmCounts(feedback_count=3, feedback_sum=1.5, feedback_sum_squares=0.75, labels={"a": 0})
    AnalysisSettings(alpha=0.5, min_samples=1, label_drift=Thresholds(0.0, 0.0, scale=1e-3))


# ---- the bandit ---------------------------------------------------------------------------


def exact_probability_best(stable: ArmCounts, canary: ArmCounts) -> float:
    """P(canary's Beta draw > stable's), by integrating pdf_canary * cdf_stable."""
    s = sps.beta(1 + stable.feedback_sum, 1 + stable.feedback_count - stable.feedback_sum)
    c = sps.beta(1 + canary.feedback_sum, 1 + canary.feedback_count - canary.feedback_sum)
    value, _ = integrate.quad(lambda x: c.pdf(x) * s.cdf(x), 0, 1, limit=200)
    return float(value)


@pytest.mark.parametrize(
    ("stable", "canary"),
    [((200, 160), (200, 170)), ((1000, 800), (100, 75)), ((300, 150.5), (300, 149.25))],
)
def test_probability_best_matches_the_beta_posteriors(
    stable: tuple[int, float], canary: tuple[int, float]
) -> None:
    arms = [
        ArmCounts(feedback_count=n, feedback_sum=s, feedback_sum_squares=s)
        for n, s in (stable, canary)
    ]
    seen = st.probability_best(*arms, seed=3, draws=200_000, min_feedback=1)
    expected = exact_probability_best(*arms)
    assert seen == pytest.approx(expected, abs=0.005), f"expected {expected}, saw {seen}"


def test_probability_best_is_seeded_and_waits_for_data() -> None:
    stable = ArmCounts(feedback_count=150, feedback_sum=120, feedback_sum_squares=120)
    canary = ArmCounts(feedback_count=150, feedback_sum=125, feedback_sum_squares=125)
    first = st.probability_best(stable, canary, seed=(7, 42), draws=1000)
    assert first == st.probability_best(stable, canary, seed=(7, 42), draws=1000)
    assert first != st.probability_best(stable, canary, seed=(7, 43), draws=1000)
    short = ArmCounts(feedback_count=99, feedback_sum=99, feedback_sum_squares=99)
    assert st.probability_best(stable, short, seed=1, min_feedback=100) is None
    assert st.probability_best(stable, canary, seed=1, min_feedback=150) is not None


@pytest.mark.parametrize(
    ("p_best", "weight"),
    [(None, 10), (0.0, 5), (0.04, 5), (0.234, 23), (0.235, 24), (0.5, 50), (0.51, 50), (1.0, 50)],
)
def test_bandit_weight(p_best: float | None, weight: int) -> None:
    assert st.bandit_weight(p_best, current=10, floor=5, ceiling=50) == weight


def test_bandit_weight_refuses_a_floor_above_the_ceiling() -> None:
    with pytest.raises(ValueError, match="floor and ceiling"):
        st.bandit_weight(0.5, current=10, floor=60, ceiling=50)
    assert st.bandit_weight(0.5, current=10, floor=50, ceiling=50) == 50


# ---- error control by simulation (seeded, bounded) ------------------------------------------

RUNS, LOOK_EVERY, WEIGHT, LOOKS = 300, 200, 0.1, 250  # up to ~5,000 canary requests


def simulate(p_stable: float, p_canary: float, settings: AnalysisSettings, seed: int) -> np.ndarray:
    """Canary requests at the first Fail verdict per run (inf: never), a look after every 200
    requests at 10% canary weight: errors at the given rates; slow 5%, a 0/1 reward of mean
    0.8 and labels 50/30/20% on both arms."""
    rng = np.random.default_rng(seed)
    to_canary = rng.binomial(LOOK_EVERY, WEIGHT, size=(RUNS, LOOKS))

    def signals(requests: np.ndarray, errors: float) -> st.Signals:
        answered = requests.cumsum(1).astype(float)
        rewards = rng.binomial(requests, 0.8).cumsum(1).astype(float)
        labels = rng.multinomial(requests, (0.5, 0.3, 0.2)).cumsum(1).astype(float)
        errored, slow = (rng.binomial(requests, p).cumsum(1).astype(float) for p in (errors, 0.05))
        return st.Signals(answered, errored, slow, answered, rewards, rewards, labels)

    stable, canary = signals(LOOK_EVERY - to_canary, p_stable), signals(to_canary, p_canary)
    codes = st.states_for(stable, canary, settings)
    failed = st.overall(np.stack(list(codes.values()), axis=-1)) == FAIL
    return np.where(failed.any(1), canary.requests[np.arange(RUNS), failed.argmax(1)], np.inf)


ONLY_ERRORS = AnalysisSettings(
    slow_rate=Thresholds(0.0, 0.02, enabled=False),
    reward=Thresholds(0.0, 0.02, enabled=False),
    label_drift=Thresholds(0.1, 0.1, enabled=False),
)
SLACK = 3 * math.sqrt(0.05 * 0.95 / RUNS)


@pytest.mark.parametrize("rate", [0.001, 0.01, 0.2])
def test_equal_error_rates_are_rolled_back_at_most_alpha_of_the_time(rate: float) -> None:
    """The whole alpha on the error rate, looked at 250 times: false Fails <= alpha + 3 sigma."""
    fails = np.isfinite(simulate(rate, rate, ONLY_ERRORS, seed=int(rate * 1000))).mean()
    assert fails <= 0.05 + SLACK, f"expected a false Fail rate <= {0.05 + SLACK:.3f}, saw {fails}"


def test_equal_arms_are_rolled_back_at_most_alpha_of_the_time_with_every_metric() -> None:
    fails = np.isfinite(simulate(0.01, 0.01, AnalysisSettings(), seed=4)).mean()
    assert fails <= 0.05 + SLACK, f"expected a false Fail rate <= {0.05 + SLACK:.3f}, saw {fails}"


def test_a_doubled_error_rate_is_caught() -> None:
    """Errors 1% -> 2% at 10% weight, every metric at its default: caught within ~5,000 canary
    requests in nearly every run, half of them by 1,500."""
    caught = simulate(0.01, 0.02, AnalysisSettings(), seed=2)
    assert np.isfinite(caught).mean() >= 0.9, f"caught in {np.isfinite(caught).mean():.0%} of runs"
    assert np.median(caught) <= 1500, f"median canary requests to a Fail {np.median(caught)}"
