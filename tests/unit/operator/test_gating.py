"""The offline gate: candidate vs stable metric with a tolerated drop, table-driven."""

from __future__ import annotations

import pytest
from hotswap_operator import deciding, specs

CASES = [
    ("better passes", {"accuracy": 0.90}, {"accuracy": 0.95}, 0.0, True),
    ("equal passes", {"accuracy": 0.90}, {"accuracy": 0.90}, 0.0, True),
    ("a drop within maxDrop passes", {"accuracy": 0.90}, {"accuracy": 0.885}, 0.02, True),
    ("a drop of exactly maxDrop passes", {"accuracy": 0.90}, {"accuracy": 0.88}, 0.02, True),
    ("a drop beyond maxDrop fails", {"accuracy": 0.90}, {"accuracy": 0.85}, 0.02, False),
    (
        "nested under metrics works",
        {"metrics": {"accuracy": 0.9}},
        {"metrics": {"accuracy": 0.9}},
        0,
        True,
    ),
    ("missing on the candidate fails", {"accuracy": 0.9}, {"f1": 0.9}, 0.5, False),
    ("missing on the stable fails", {}, {"accuracy": 0.9}, 0.5, False),
    ("a non-number fails", {"accuracy": "high"}, {"accuracy": 0.9}, 0.5, False),
]


@pytest.mark.parametrize(
    ("name", "stable", "canary", "max_drop", "passed"), CASES, ids=[c[0] for c in CASES]
)
def test_gate(
    name: str, stable: dict[str, object], canary: dict[str, object], max_drop: float, passed: bool
) -> None:
    result = deciding.evaluate_gate(specs.OfflineGate("accuracy", max_drop), stable, canary)
    assert result.passed is passed, f"{name}: expected passed={passed}, seen {result}"
    assert "accuracy" in result.message, f"the message names the metric: {result.message}"
