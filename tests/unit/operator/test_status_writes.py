"""When a pass's status may wait for the next pass's write (`reconciling.may_wait`): only a
switch of the stable alone whose pods all answered, so a crash before that write never routes
a step back."""

from __future__ import annotations

import pytest
from hotswap_operator.reconciling import Pass, may_wait
from hotswap_operator.statuses import CanaryStatus

STABLE_ONLY = CanaryStatus(stable_version="intent-v1")
SWITCHED = CanaryStatus(stable_version="intent-v2")
CANARY = CanaryStatus(stable_version="intent-v1", canary_version="intent-v2", weight=20)
PROMOTED = CanaryStatus(stable_version="intent-v2")


def passed(status: CanaryStatus, *, confirmed: bool) -> Pass:
    return Pass(status, [], confirmed=confirmed, busy=True)


def test_an_immediate_switch_answered_by_every_pod_waits_for_the_next_pass() -> None:
    assert may_wait(STABLE_ONLY, passed(SWITCHED, confirmed=True))


def test_a_pod_that_did_not_answer_is_written_at_once() -> None:
    assert not may_wait(STABLE_ONLY, passed(SWITCHED, confirmed=False))


@pytest.mark.parametrize(
    ("written", "decided"),
    [(STABLE_ONLY, CANARY), (CANARY, CANARY), (CANARY, PROMOTED)],
    ids=["a canary starts", "a step moves", "a promotion"],
)
def test_a_stage_of_a_stepped_rollout_is_written_at_once(
    written: CanaryStatus, decided: CanaryStatus
) -> None:
    """The stage is in the status alone: a new life would route as the written status says."""
    assert not may_wait(written, passed(decided, confirmed=True))
