"""What a reconcile decided: the next status (which declares the routing) and the events."""

from __future__ import annotations

from dataclasses import dataclass, field

from hotswap_operator.statuses import CanaryStatus

NORMAL, WARNING = "Normal", "Warning"


@dataclass(frozen=True)
class Plan:
    """The routing a status declares, in ModelVersion names."""

    stable: str
    canary: str | None = None
    weight: int = 0


@dataclass(frozen=True)
class Event:
    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class Decision:
    status: CanaryStatus
    events: list[Event] = field(default_factory=list)

    @property
    def plan(self) -> Plan | None:
        return plan_of(self.status)


def plan_of(status: CanaryStatus) -> Plan | None:
    if status.stable_version is None:
        return None
    return Plan(status.stable_version, status.canary_version, status.weight)
