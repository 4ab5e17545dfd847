"""The spec of each custom resource as typed, frozen data (fields mirror crds/*.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hotswap_operator import encoding

GROUP = "hotswap.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
MODEL_LABEL = f"{GROUP}/model"
PROMOTE_ANNOTATION = f"{GROUP}/promote"
ABORT_ANNOTATION = f"{GROUP}/abort"
ADMIN_PORT_ANNOTATION = f"{GROUP}/admin-port"

IMMEDIATE = "Immediate"
STEPS = "Steps"


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
    min_requests: int | None = None
    max_error_ratio: float | None = None


@dataclass(frozen=True)
class Step:
    name: str
    set_weight: int | None = None
    pause: Pause | None = None
    analysis: AnalysisStep | None = None


@dataclass(frozen=True)
class Strategy:
    type: str = IMMEDIATE
    steps: list[Step] = field(default_factory=list)


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


def parse_model_version(spec: Any) -> ModelVersionSpec:
    return encoding.load(ModelVersionSpec, spec, where="spec")


def parse_canary(spec: Any) -> CanarySpec:
    parsed = encoding.load(CanarySpec, spec, where="spec")
    if parsed.strategy.type not in (IMMEDIATE, STEPS):
        raise encoding.ParseError(
            f"spec.strategy.type {parsed.strategy.type!r} is not one of {IMMEDIATE}, {STEPS}"
        )
    return parsed
