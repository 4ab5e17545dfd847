"""The status of each custom resource as typed, frozen data (fields mirror crds/*.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hotswap_operator import encoding

# ModelVersion status.serving
STABLE, CANARY, NONE = "Stable", "Canary", "None"
# Canary status.rollout.kind and history kinds
DEPLOY, ROLLBACK, INITIAL = "Deploy", "Rollback", "Initial"
# history outcomes
PROMOTED, ABORTED, REFUSED = "Promoted", "Aborted", "Refused"
# analysis verdicts (status.analysis.verdict, lastAnalysis.verdict) and metric states
PASS, FAIL, INCONCLUSIVE, NO_DATA, SKIPPED = "Pass", "Fail", "Inconclusive", "NoData", "Skipped"
# analysis sources
PODS, PROMETHEUS = "Pods", "Prometheus"


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_transition_time: str = ""
    observed_generation: int = 0


@dataclass(frozen=True)
class ModelVersionStatus:
    observed_generation: int = 0
    serving: str | None = None
    last_served_at: str | None = None
    verified_digest: str | None = None
    conditions: list[Condition] = field(default_factory=list)


@dataclass(frozen=True)
class PodState:
    name: str
    ip: str = ""
    versions: list[str] = field(default_factory=list)
    generation: int = 0
    ready: bool = False
    error: str | None = None


@dataclass(frozen=True)
class Rollout:
    version: str
    kind: str
    started_at: str
    from_version: str | None = None


@dataclass(frozen=True)
class LastAnalysis:
    kind: str
    verdict: str
    message: str
    time: str
    metric: str | None = None
    stable: float | None = None
    canary: float | None = None
    max_drop: float | None = None
    lower: float | None = None
    upper: float | None = None


@dataclass(frozen=True)
class Counts:
    """What one arm answered in an analysis window: the inputs of every test."""

    requests: int = 0  # answered or failed by the server (client errors excluded)
    errors: int = 0  # server errors
    slow: int = 0  # answered slower than the pods' slow threshold
    feedback_count: int = 0
    feedback_sum: float = 0.0
    feedback_sum_squares: float = 0.0
    labels: dict[str, int] = field(default_factory=dict)  # predicted label -> count


@dataclass(frozen=True)
class Pair:
    stable: Counts = field(default_factory=Counts)
    canary: Counts = field(default_factory=Counts)


@dataclass(frozen=True)
class PodWindow:
    """One pod process in the window: its counters when first seen, and what it added since."""

    name: str
    epoch: str
    baseline: Pair = field(default_factory=Pair)
    counted: Pair = field(default_factory=Pair)


@dataclass(frozen=True)
class MetricState:
    name: str
    state: str
    message: str = ""
    stable: float | None = None
    canary: float | None = None
    lower: float | None = None
    upper: float | None = None
    stable_samples: int = 0
    canary_samples: int = 0


@dataclass(frozen=True)
class AnalysisStatus:
    """The live analysis window of the rollout in progress (kept here so a restart resumes)."""

    canary_version: str
    stable_version: str
    started_at: str
    updated_at: str
    source: str = PODS
    verdict: str = INCONCLUSIVE
    message: str = ""
    carried: Pair = field(default_factory=Pair)  # pods that restarted or left
    pods: list[PodWindow] = field(default_factory=list)
    totals: Pair = field(default_factory=Pair)
    metrics: list[MetricState] = field(default_factory=list)
    canary_best_probability: float | None = None  # Bandit: P(canary has the higher reward)


@dataclass(frozen=True)
class HistoryEntry:
    version: str
    kind: str
    outcome: str
    reason: str
    message: str
    started_at: str
    finished_at: str
    from_version: str | None = None


@dataclass(frozen=True)
class CanaryStatus:
    observed_generation: int = 0
    stable_version: str | None = None
    canary_version: str | None = None
    weight: int = 0
    current_step: int | None = None
    step_started_at: str | None = None
    routing_generation: int = 0
    rollout: Rollout | None = None
    aborted_generation: int | None = None
    promote_handled: str | None = None
    abort_handled: str | None = None
    pods: list[PodState] = field(default_factory=list)
    converged_pods: int = 0
    total_pods: int = 0
    last_analysis: LastAnalysis | None = None
    analysis: AnalysisStatus | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)


def parse_canary(status: Any) -> CanaryStatus:
    return encoding.load(CanaryStatus, status or {}, where="status")


def parse_model_version(status: Any) -> ModelVersionStatus:
    return encoding.load(ModelVersionStatus, status or {}, where="status")


def roles(status: CanaryStatus) -> dict[str, str]:
    """ModelVersion name -> what it serves as (status.serving: Stable or Canary)."""
    found = {}
    if status.stable_version:
        found[status.stable_version] = STABLE
    if status.canary_version:
        found[status.canary_version] = CANARY
    return found
