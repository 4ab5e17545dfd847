"""A rollout waiting for pods says which pods it waits for and why (an admin port that stopped
answering names the pod and the error), not only how many."""

from __future__ import annotations

from dataclasses import replace

from hotswap_operator import conditions, deciding

from tests.unit.operator import builders as given


def progressing_message(pods: list[object]) -> str:
    observed = given.observed(pods=pods, routing_matches=True)
    decision = deciding.next_decision(
        given.spec(steps=True), given.stepping(0, 10), observed, given.NOW
    )
    found = conditions.find(decision.status.conditions, conditions.PROGRESSING)
    assert found is not None and found.reason == conditions.WAITING_FOR_PODS, found
    return found.message


def test_the_pods_behind_are_named_with_their_error() -> None:
    pods = given.pods(True, False, False)
    pods[1] = replace(pods[1], error="unreachable at 127.0.0.3:8001: timed out")
    message = progressing_message(pods)
    assert "1/3 ready pods" in message, message
    assert "pod-1 (unreachable at 127.0.0.3:8001: timed out), pod-2" in message, message
    assert "pod-0" not in message, f"a converged pod is not waited for: {message}"


def test_many_pods_behind_are_counted_past_three() -> None:
    message = progressing_message(given.pods(False, False, False, False, False))
    assert message.endswith("waiting for pod-0, pod-1, pod-2 and 2 more"), message
