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
    history: list[HistoryEntry] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)


def parse_canary(status: Any) -> CanaryStatus:
    return encoding.load(CanaryStatus, status or {}, where="status")


def parse_model_version(status: Any) -> ModelVersionStatus:
    return encoding.load(ModelVersionStatus, status or {}, where="status")
