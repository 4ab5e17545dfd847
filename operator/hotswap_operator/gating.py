"""The offline gate: a candidate's metric against the stable's, with a tolerated drop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotswap_operator.specs import OfflineGate
from hotswap_operator.verdicts import GateResult


def evaluate_gate(
    gate: OfflineGate, stable: Mapping[str, Any], canary: Mapping[str, Any]
) -> GateResult:
    """Pass when canary >= stable - maxDrop; a metric missing on either side fails, saying so."""
    old, new = metric_value(stable, gate.metric), metric_value(canary, gate.metric)
    if old is None or new is None:
        side = "stable" if old is None else "candidate"
        return GateResult(
            passed=False,
            metric=gate.metric,
            message=f"the {side} version's metrics.json has no numeric {gate.metric!r}: "
            "fix spec.offlineGate.metric or the training output",
            stable=old,
            canary=new,
            max_drop=gate.max_drop,
        )
    passed = new >= old - gate.max_drop - 1e-12
    verb = "within" if passed else "exceeds"
    return GateResult(
        passed=passed,
        metric=gate.metric,
        message=f"{gate.metric} {new:.4f} vs stable {old:.4f}: drop {max(old - new, 0):.4f} "
        f"{verb} maxDrop {gate.max_drop:.4f}",
        stable=old,
        canary=new,
        max_drop=gate.max_drop,
    )


def metric_value(metrics: Mapping[str, Any], name: str) -> float | None:
    """`name` at the top of metrics.json, or under a "metrics" object; numbers only."""
    for scope in (metrics, metrics.get("metrics")):
        if isinstance(scope, Mapping):
            value = scope.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
    return None
