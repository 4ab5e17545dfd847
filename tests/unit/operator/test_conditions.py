"""set_condition keeps lastTransitionTime unless the status flips."""

from __future__ import annotations

from datetime import timedelta

from hotswap_operator import conditions

from tests.unit.operator.builders import NOW


def test_a_new_condition_gets_the_current_time() -> None:
    found = conditions.set_condition(
        [], "Ready", True, reason="A", message="m", now=NOW, generation=3
    )
    assert [(c.type, c.status, c.last_transition_time, c.observed_generation) for c in found] == [
        ("Ready", "True", "2026-11-28T14:30:00Z", 3)
    ]


def test_same_status_keeps_the_transition_time_but_takes_the_new_reason() -> None:
    first = conditions.set_condition(
        [], "Ready", True, reason="A", message="m", now=NOW, generation=1
    )
    later = NOW + timedelta(minutes=5)
    second = conditions.set_condition(
        first, "Ready", True, reason="B", message="n", now=later, generation=2
    )
    (seen,) = second
    assert (seen.last_transition_time, seen.reason, seen.observed_generation) == (
        "2026-11-28T14:30:00Z",
        "B",
        2,
    )


def test_a_flip_moves_the_transition_time() -> None:
    first = conditions.set_condition(
        [], "Ready", True, reason="A", message="m", now=NOW, generation=1
    )
    later = NOW + timedelta(minutes=5)
    (seen,) = conditions.set_condition(
        first, "Ready", False, reason="A", message="m", now=later, generation=1
    )
    assert seen.last_transition_time == "2026-11-28T14:35:00Z"


def test_other_conditions_are_kept() -> None:
    first = conditions.set_condition(
        [], "Ready", True, reason="A", message="m", now=NOW, generation=1
    )
    both = conditions.set_condition(
        first, "Degraded", False, reason="H", message="m", now=NOW, generation=1
    )
    assert [c.type for c in both] == ["Ready", "Degraded"]
