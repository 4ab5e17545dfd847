"""The serving state: one immutable object holding the routing and its predictors.

A reload builds a new state beside the old one and swaps a single reference; a request takes
the reference once and uses that snapshot to the end, so it never sees half a reload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hotswap.store.routes import Routing
from hotswap_inference import splitting
from hotswap_inference.predictors import Predictor

TEXT = "text"
NUMERIC = "numeric"


@dataclass(frozen=True)
class InputSpec:
    """What a version takes: strings (`text`) or rows of `features` numbers (`numeric`)."""

    kind: str = TEXT
    features: int | None = None


@dataclass(frozen=True)
class Served:
    """One loaded version, ready to predict."""

    version: str
    digest: str
    predictor: Predictor
    fallback_reason: str | None
    inputs: InputSpec

    @property
    def kind(self) -> str:
        return self.predictor.kind


@dataclass(frozen=True)
class ServingState:
    model: str
    routing: Routing
    served: Mapping[str, Served]  # by version id
    source: str  # "routing" (routing.json or a POST) or "current" (no routing.json yet)

    @property
    def generation(self) -> int:
        return self.routing.generation

    def version_of(self, arm: str) -> str:
        if arm == splitting.CANARY and self.routing.canary is not None:
            return self.routing.canary.version
        return self.routing.stable.version

    def serving(self, arm: str) -> Served:
        return self.served[self.version_of(arm)]

    def canary(self) -> Served | None:
        canary = self.routing.canary
        return self.served[canary.version] if canary else None


def describe_inputs(samples: Sequence[Any], estimator: Any) -> InputSpec:
    """Text or numeric, from the stored samples; else from the estimator's feature count."""
    if samples:
        first = samples[0]
        if isinstance(first, str):
            return InputSpec(TEXT)
        if isinstance(first, list | tuple):
            return InputSpec(NUMERIC, len(first))
    features = getattr(estimator, "n_features_in_", None)
    if isinstance(features, int):
        return InputSpec(NUMERIC, features)
    return InputSpec(TEXT)
