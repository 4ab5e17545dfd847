"""The analysis window: pods' cumulative counters into per-arm sums, across restarts and churn."""

from __future__ import annotations

from hotswap_operator import windows
from hotswap_operator.statuses import Counts, Pair
from hotswap_operator.windows import PodSample


def pair(stable: int, canary: int, *, errors: int = 0, label: str = "a") -> Pair:
    return Pair(
        stable=Counts(requests=stable, labels={label: stable} if stable else {}),
        canary=Counts(requests=canary, errors=errors, labels={label: canary} if canary else {}),
    )


def window() -> windows.AnalysisStatus:
    return windows.open_window(
        stable="old", canary="new", stamp="2026-11-28T14:30:00Z", source="Pods", rollout_started=""
    )


def look(w: windows.AnalysisStatus, *samples: tuple[str, str, Pair]) -> windows.AnalysisStatus:
    return windows.add_samples(
        w, [PodSample(name, epoch, counts) for name, epoch, counts in samples]
    )


def test_first_look_is_the_baseline_and_counts_nothing() -> None:
    w = look(window(), ("pod-0", "e0", pair(1000, 50)))
    assert w.totals == Pair(), f"expected nothing counted before the window, got {w.totals}"
    assert [(p.name, p.epoch) for p in w.pods] == [("pod-0", "e0")]


def test_what_pods_add_after_the_baseline_is_summed() -> None:
    w = look(window(), ("pod-0", "e0", pair(1000, 50)), ("pod-1", "e1", pair(10, 0)))
    w = look(w, ("pod-0", "e0", pair(1100, 60, errors=2)), ("pod-1", "e1", pair(30, 5)))
    assert w.totals.stable.requests == 100 + 20
    assert w.totals.canary.requests == 10 + 5
    assert w.totals.canary.errors == 2
    assert w.totals.canary.labels == {"a": 15}


def test_the_same_look_twice_counts_once() -> None:
    first = look(window(), ("pod-0", "e0", pair(0, 0)))
    once = look(first, ("pod-0", "e0", pair(40, 4)))
    twice = look(once, ("pod-0", "e0", pair(40, 4)))
    assert twice.totals == once.totals, "a repeated look must not count again"


def test_a_restarted_pod_carries_what_it_counted_and_counts_its_new_process_from_zero() -> None:
    w = look(window(), ("pod-0", "e0", pair(100, 10)))
    w = look(w, ("pod-0", "e0", pair(150, 15)))  # +50 / +5
    w = look(w, ("pod-0", "e1", pair(7, 2)))  # restarted: 7 and 2 since its start
    assert w.totals.stable.requests == 57 and w.totals.canary.requests == 7, w.totals
    assert w.carried.stable.requests == 50, f"the old process's 50 must be carried: {w.carried}"


def test_a_pod_not_seen_keeps_what_it_counted() -> None:
    w = look(window(), ("pod-0", "e0", pair(0, 0)), ("pod-1", "e1", pair(0, 0)))
    w = look(w, ("pod-0", "e0", pair(10, 1)), ("pod-1", "e1", pair(20, 2)))
    w = look(w, ("pod-0", "e0", pair(15, 1)))  # pod-1 not ready this time
    assert w.totals.stable.requests == 35, f"expected pod-1's 20 kept, got {w.totals}"
    assert {p.name for p in w.pods} == {"pod-0", "pod-1"}


def test_a_counter_that_goes_down_in_one_process_counts_zero_not_negative() -> None:
    w = look(window(), ("pod-0", "e0", pair(100, 10)))
    w = look(w, ("pod-0", "e0", pair(90, 5)))
    assert w.totals.stable.requests == 0 and w.totals.canary.requests == 0, w.totals


def test_too_many_pods_fold_the_unseen_into_carried() -> None:
    many = [(f"pod-{i:03d}", "e", pair(0, 0)) for i in range(windows.MAX_PODS)]
    w = look(window(), *many)
    w = look(w, *[(name, "e", pair(1, 0)) for name, _, _ in many])
    w = look(w, ("new-pod", "e", pair(0, 0)))
    assert len(w.pods) == windows.MAX_PODS, f"expected at most {windows.MAX_PODS} pods kept"
    assert w.totals.stable.requests == windows.MAX_PODS, "folding must not lose counts"
