"""The analysis window: what each arm answered since the rollout's canary first took traffic.

Pods report counters cumulative since their process started, with a process epoch. The window
keeps, per pod process, the counters it had when first seen (its baseline) and what it added
since (counted = now - baseline). A pod whose epoch changed restarted: what its old process
added is carried, and the new process counts from zero (it started after the last look). A pod
not seen in one look keeps what it counted. So the window is exact across operator restarts
(it lives in status) and loses at most one look of a pod that restarts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from hotswap_operator.statuses import AnalysisStatus, Counts, Pair, PodWindow

MAX_PODS = 256  # pod processes kept by name; older ones not seen now are folded into carried


@dataclass(frozen=True)
class PodSample:
    """One pod's cumulative counters of the window's stable and canary (version, arm)."""

    name: str
    epoch: str
    counts: Pair


def open_window(
    *, stable: str, canary: str, stamp: str, source: str, rollout_started: str
) -> AnalysisStatus:
    return AnalysisStatus(
        canary_version=canary,
        stable_version=stable,
        started_at=stamp,
        updated_at=stamp,
        source=source,
        message=f"window opened for {canary} against {stable} (rollout of {rollout_started})",
    )


def add_samples(window: AnalysisStatus, samples: Sequence[PodSample]) -> AnalysisStatus:
    """The window after one look at the pods' counters (idempotent for the same look)."""
    carried = window.carried
    unseen = {pod.name: pod for pod in window.pods}
    pods: list[PodWindow] = []
    for sample in samples:
        known = unseen.pop(sample.name, None)
        if known is not None and known.epoch != sample.epoch:
            carried = add(carried, known.counted)
            known = PodWindow(sample.name, sample.epoch)  # a new process: counts from zero
        if known is None:
            pods.append(PodWindow(sample.name, sample.epoch, baseline=sample.counts))
        else:
            pods.append(replace(known, counted=subtract(sample.counts, known.baseline)))
    kept = sorted(unseen.values(), key=lambda pod: pod.name)
    while len(pods) + len(kept) > MAX_PODS and kept:
        carried = add(carried, kept.pop(0).counted)
    pods = sorted(pods + kept, key=lambda pod: pod.name)
    totals = add(carried, *(pod.counted for pod in pods))
    return replace(window, carried=carried, pods=pods, totals=totals)


def with_totals(window: AnalysisStatus, totals: Pair) -> AnalysisStatus:
    """The window from a source that sums over pods itself (Prometheus `increase`)."""
    return replace(window, carried=Pair(), pods=[], totals=totals)


def same_processes(a: AnalysisStatus, b: AnalysisStatus) -> bool:
    """Both windows know the same pod processes (a new one must be written down at once)."""
    return [(p.name, p.epoch) for p in a.pods] == [(p.name, p.epoch) for p in b.pods]


def add(first: Pair, *more: Pair) -> Pair:
    pairs = (first, *more)
    return Pair(
        stable=sum_counts(p.stable for p in pairs), canary=sum_counts(p.canary for p in pairs)
    )


def subtract(now: Pair, baseline: Pair) -> Pair:
    return Pair(
        stable=difference(now.stable, baseline.stable),
        canary=difference(now.canary, baseline.canary),
    )


def sum_counts(items: Iterable[Counts]) -> Counts:
    listed = list(items)
    labels: dict[str, int] = {}
    for counts in listed:
        for label, count in counts.labels.items():
            labels[label] = labels.get(label, 0) + count
    return Counts(
        requests=sum(c.requests for c in listed),
        errors=sum(c.errors for c in listed),
        slow=sum(c.slow for c in listed),
        feedback_count=sum(c.feedback_count for c in listed),
        feedback_sum=sum(c.feedback_sum for c in listed),
        feedback_sum_squares=sum(c.feedback_sum_squares for c in listed),
        labels=labels,
    )


def difference(now: Counts, base: Counts) -> Counts:
    """now - base, never below zero (counters only rise within one process)."""
    labels = {k: max(0, v - base.labels.get(k, 0)) for k, v in now.labels.items()}
    return Counts(
        requests=max(0, now.requests - base.requests),
        errors=max(0, now.errors - base.errors),
        slow=max(0, now.slow - base.slow),
        feedback_count=max(0, now.feedback_count - base.feedback_count),
        feedback_sum=max(0.0, now.feedback_sum - base.feedback_sum),
        feedback_sum_squares=max(0.0, now.feedback_sum_squares - base.feedback_sum_squares),
        labels={k: v for k, v in labels.items() if v},
    )
