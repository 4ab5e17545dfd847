"""What one reconcile observed about the world: the facts `deciding.next_decision` acts on.

Plain data, filled by `observing` (the cluster, the volume, the pods) and read by `deciding`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotswap_operator.statuses import PODS, Pair, PodState
from hotswap_operator.windows import PodSample

# Target states
MISSING = "Missing"  # no ModelVersion of that name
PENDING = "Pending"  # exists, not verified yet
REJECTED = "Rejected"  # verification failed, or it belongs to another model
VERIFIED = "Verified"


@dataclass(frozen=True)
class Target:
    """The ModelVersion a Canary's spec.version names."""

    name: str
    state: str
    message: str = ""
    served_before: bool = False


@dataclass(frozen=True)
class GateResult:
    """The offline gate: candidate metric vs stable metric, with the tolerated drop."""

    passed: bool
    metric: str
    message: str
    stable: float | None = None
    canary: float | None = None
    max_drop: float = 0.0


@dataclass(frozen=True)
class PodFailure:
    """A pod that answered the reload with load_failed (it keeps serving what it had)."""

    pod: str
    version: str  # ModelVersion name it could not load
    reason: str


@dataclass(frozen=True)
class Observation:
    generation: int
    target: Target
    pods: list[PodState] = field(default_factory=list)
    routing_matches: bool = False  # routing.json declares what status says
    gate: GateResult | None = None
    pod_failure: PodFailure | None = None
    promote: str | None = None  # hotswap.dev/promote annotation value
    abort: str | None = None  # hotswap.dev/abort annotation value
    source: str = PODS  # where the analysis signals come from
    samples: list[PodSample] | None = None  # pods' counters of the rollout's arms (Pods source)
    totals: Pair | None = None  # the window's sums, from Prometheus (Prometheus source)
    source_error: str | None = None  # why the analysis source could not be read this time

    @property
    def converged(self) -> bool:
        """routing.json is as declared and every ready pod reports it (at least one pod:
        nothing counts as confirmed when no pod confirmed it)."""
        return self.routing_matches and bool(self.pods) and all(pod.ready for pod in self.pods)
