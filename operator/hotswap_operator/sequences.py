"""Confidence sequences for a canary's worsening, vectorised over numpy arrays of any shape.

The one-sided normal-mixture boundary (Howard, Ramdas, McAuliffe, Sekhon 2021, "Time-uniform,
nonparametric, nonasymptotic confidence sequences"), applied to a difference of two arms' means
as the asymptotic confidence sequences of Waudby-Smith et al. ("Time-uniform central limit
theory") do, with the variance evaluated where each decision's threshold puts the arms (score
form), a pseudo-count floor and a Cornish-Fisher term for skew. `statistics.judge` calls these
on one window; bench/analysis.py on thousands of simulated rollouts at once.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import special

FloatArray = npt.NDArray[np.float64]
NEWTON_STEPS = 6


class Bounds(NamedTuple):
    """Lower and upper bounds of a worsening, each a one-sided confidence sequence."""

    lower: FloatArray
    upper: FloatArray


class Moments(NamedTuple):
    """One arm's observations in [0, 1]: how many, their sum, the sum of their squares. A rate
    is 0/1 observations: Moments(requests, errors, errors)."""

    samples: FloatArray
    total: FloatArray
    squares: FloatArray


# ---- the boundary -------------------------------------------------------------------------


def mixture_width(
    variance: FloatArray, *, alpha: float, scale: float, skew: FloatArray | float = 0.0
) -> FloatArray:
    """Half-width of the one-sided normal-mixture confidence sequence at level `alpha`.

    An estimate with this variance is off by more than the width, at any look, with probability
    at most alpha (Ville's inequality on the half-normal mixture of exp(l*S - l^2*V/2), with the
    mixing standard deviation `scale` on the estimate's own scale). A positive `skew` (the
    estimate's standardised third cumulant toward this side) widens it by Cornish-Fisher.
    """
    level = math.log(1 / (2 * alpha)) + 0.5 * np.log1p(scale**2 / variance)
    z = _solve_boundary(level)
    z = z + np.maximum(0.0, skew * (z * z - 1) / 6)
    return np.asarray(z * np.sqrt(variance + variance**2 / scale**2), dtype=np.float64)


def _solve_boundary(level: FloatArray) -> FloatArray:
    """z with z^2/2 + log(Phi(z)) = level, by Newton from sqrt(2 level) (it is increasing)."""
    z = np.sqrt(2 * np.maximum(level, 1e-12))
    for _ in range(NEWTON_STEPS):
        log_phi = special.log_ndtr(z)
        slope = z + np.exp(-0.5 * z * z - 0.5 * math.log(2 * math.pi) - log_phi)
        z = z - (0.5 * z * z + log_phi - level) / slope
    return np.asarray(z, dtype=np.float64)


# ---- the worsening of each kind of metric ------------------------------------------------


def rate_bounds(
    stable: Moments,
    canary: Moments,
    *,
    alpha: float,
    fail_above: float,
    pass_below: float,
    scale: float,
) -> Bounds:
    """Canary rate (or mean) minus stable's: higher is worse (errors, slow answers)."""
    return _bounds(stable, canary, alpha=alpha, at=(fail_above, pass_below), scale=scale)


def reward_bounds(
    stable: Moments,
    canary: Moments,
    *,
    alpha: float,
    fail_above: float,
    pass_below: float,
    scale: float,
) -> Bounds:
    """Stable mean reward minus canary's: lower is worse."""
    return _bounds(
        canary, stable, alpha=alpha, at=(fail_above, pass_below), scale=scale, shape_free=True
    )


def _bounds(
    base: Moments,
    other: Moments,
    *,
    alpha: float,
    at: tuple[float, float],
    scale: float,
    shape_free: bool = False,
) -> Bounds:
    """Bounds of mean(other) - mean(base). Each side's variance is the one the arms would have
    if the difference were exactly that side's threshold (score form: an arm that strays from
    it widens its own bound), floored at one pseudo-hit in n + 2 per arm, so zero hits on both
    arms prove nothing; a Cornish-Fisher term covers the skew of rare hits."""
    difference = mean(other) - mean(base)
    rise, fall = (
        _width(base, other, at=at[i], tail=tail, alpha=alpha, scale=scale, shape_free=shape_free)
        for i, tail in enumerate((1.0, -1.0))
    )
    return Bounds(difference - rise, difference + fall)


def mean(arm: Moments) -> FloatArray:
    return np.asarray(arm.total / np.maximum(arm.samples, 1), dtype=np.float64)


def _width(
    base: Moments,
    other: Moments,
    *,
    at: float,
    alpha: float,
    scale: float,
    tail: float,
    shape_free: bool,
) -> FloatArray:
    pooled = (base.total + other.total - other.samples * at) / np.maximum(
        base.samples + other.samples, 1
    )
    null_base = np.clip(pooled, max(0.0, -at), min(1.0, 1.0 - at))
    v_base, k_base = _cumulants(base, null_base, shape_free=shape_free)
    v_other, k_other = _cumulants(other, null_base + at, shape_free=shape_free)
    variance = v_base + v_other
    skew = tail * (k_other - k_base) / variance**1.5
    return mixture_width(variance, alpha=alpha, scale=scale, skew=skew)


def _cumulants(
    arm: Moments, null_mean: FloatArray, *, shape_free: bool
) -> tuple[FloatArray, FloatArray]:
    """Variance and third cumulant of the arm's mean if its mean were null_mean: Bernoulli's,
    less the part of the spread a [0, 1] observation has off 0 and 1 ((sum - squares) / n).
    `shape_free` (rewards of any shape): at least the arm's own spread around null_mean."""
    n = np.maximum(arm.samples, 1)
    floor = 1 / (n + 2)
    p = np.clip(null_mean, floor, 1 - floor)
    binary = p * (1 - p)
    spread = binary - np.clip((arm.total - arm.squares) / n, 0.0, None)
    if shape_free:
        spread = np.maximum(spread, (arm.squares - 2 * arm.total * p) / n + p * p)
    spread = np.maximum(spread, floor * (1 - floor))
    third = spread * (1 - 2 * p) * np.minimum(spread / binary, 1.0)
    return spread / n, third / (n * n)


def drift_bounds(
    stable: FloatArray,
    canary: FloatArray,
    *,
    alpha: float,
    fail_above: float,
    pass_below: float,
    scale: float,
) -> Bounds:
    """max over labels of |canary share - stable share|, from label counts of shape (..., L):
    each label's shift in either direction gets alpha / (2 L) per side (Bonferroni)."""
    each = alpha / (2 * stable.shape[-1])
    arms = [
        Moments(np.broadcast_to(c.sum(-1, keepdims=True), c.shape), c, c) for c in (stable, canary)
    ]
    up = rate_bounds(*arms, alpha=each, fail_above=fail_above, pass_below=pass_below, scale=scale)
    down = rate_bounds(
        *arms, alpha=each, fail_above=-pass_below, pass_below=-fail_above, scale=scale
    )
    lower = np.maximum(np.maximum(up.lower, -down.upper), 0.0).max(-1)
    upper = np.maximum(up.upper, -down.lower).max(-1)
    return Bounds(lower, upper)
