"""The spec of each custom resource as typed, frozen data (fields mirror crds/*.yaml); the
API's identity (group, version, labels, annotations) is `hotswap.resources`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hotswap_operator import encoding

IMMEDIATE = "Immediate"
STEPS = "Steps"
BANDIT = "Bandit"
STRATEGIES = (IMMEDIATE, STEPS, BANDIT)

# spec.analysis.onInconclusive
PAUSE, ROLLBACK, PROMOTE = "Pause", "Rollback", "Promote"


@dataclass(frozen=True)
class Metrics:
    accuracy: float | None = None
    macro_f1: float | None = None


@dataclass(frozen=True)
class ModelVersionSpec:
    model: str
    version: str
    artifact_path: str
    digest: str
    format: str
    metrics: Metrics = field(default_factory=Metrics)


@dataclass(frozen=True)
class Selector:
    match_labels: dict[str, str]


@dataclass(frozen=True)
class Pause:
    duration_seconds: int | None = None  # None: until promoted by hand


@dataclass(frozen=True)
class AnalysisStep:
    """Hold until spec.analysis passes; the fields override spec.analysis for this step."""

    min_requests: int | None = None
    max_duration_seconds: int | None = None


@dataclass(frozen=True)
class Step:
    name: str
    set_weight: int | None = None
    pause: Pause | None = None
    analysis: AnalysisStep | None = None


@dataclass(frozen=True)
class Bandit:
    """Thompson sampling on the feedback reward, between `floor` and `ceiling` percent."""

    floor: int = 5
    ceiling: int = 50
    initial_weight: int = 10
    update_interval_seconds: int = 30
    promote_probability: float = 0.95
    min_feedback: int = 100  # rewards per arm before the weight moves


@dataclass(frozen=True)
class Strategy:
    type: str = IMMEDIATE
    steps: list[Step] = field(default_factory=list)
    bandit: Bandit = field(default_factory=Bandit)


@dataclass(frozen=True)
class Check:
    """One metric's thresholds on the worsening (canary minus stable, positive is worse):
    Fail when its lower bound is above `fail_above`, Pass when its upper bound is below
    `pass_below`; None keeps the metric's default."""

    enabled: bool = True
    fail_above: float | None = None
    pass_below: float | None = None


@dataclass(frozen=True)
class DriftCheck:
    """Predicted-label shares: Fail when one label's share has moved by more than `max_shift`."""

    enabled: bool = True
    max_shift: float | None = None


@dataclass(frozen=True)
class PrometheusSource:
    url: str


@dataclass(frozen=True)
class Analysis:
    """Live comparison of canary and stable (docs/analysis.md); defaults need no tuning."""

    alpha: float = 0.05
    min_samples: int = 100
    max_duration_seconds: int = 900
    on_inconclusive: str = PAUSE
    interval_seconds: int = 10
    error_rate: Check = field(default_factory=Check)
    slow_rate: Check = field(default_factory=Check)
    reward: Check = field(default_factory=Check)
    label_drift: DriftCheck = field(default_factory=DriftCheck)
    prometheus: PrometheusSource | None = None


@dataclass(frozen=True)
class OfflineGate:
    metric: str
    max_drop: float = 0.0


@dataclass(frozen=True)
class CanarySpec:
    model: str
    version: str
    selector: Selector
    strategy: Strategy = field(default_factory=Strategy)
    sticky_header: str = "X-Request-Key"
    mirror_percent: int = 0
    offline_gate: OfflineGate | None = None
    history_limit: int = 10
    analysis: Analysis | None = None

    @property
    def analysed(self) -> Analysis:
        """spec.analysis, or its defaults (analysis steps and Bandit work without it)."""
        return self.analysis or Analysis()


def parse_model_version(spec: Any) -> ModelVersionSpec:
    return encoding.load(ModelVersionSpec, spec, where="spec")


def parse_canary(spec: Any) -> CanarySpec:
    parsed = encoding.load(CanarySpec, spec, where="spec")
    if parsed.strategy.type not in STRATEGIES:
        raise encoding.ParseError(
            f"spec.strategy.type {parsed.strategy.type!r} is not one of {', '.join(STRATEGIES)}"
        )
    return parsed
