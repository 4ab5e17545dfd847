"""The operator is SIGKILLed at a random point of a switch, 20 times, and started again: every
run converges to the declared state, and status and history come through intact."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest

from tests.integration.operator import flows
from tests.integration.operator.conftest import Operator, Volume
from tests.integration.operator.given import Rollout

RUNS = 20
SEED = 20261128


@pytest.fixture
def restarting(operator: Operator) -> Iterator[Operator]:
    yield operator
    if operator.process is None or operator.process.poll() is not None:
        operator.start()


def test_killed_mid_switch_converges_every_time(
    rollout: Rollout,
    restarting: Operator,
    registered: Volume,
) -> None:
    chooser = random.Random(SEED)
    rollout.create("v1", historyLimit=50)
    history = [h["version"] for h in rollout.ready_on("v1")["history"]]
    for run in range(RUNS):
        label = "v2" if run % 2 == 0 else "v1"
        rollout.deploy(label)
        time.sleep(chooser.uniform(0.0, 0.8))  # a random point of the switch, not an assertion
        restarting.kill()
        restarting.start()
        status = rollout.ready_on(label, timeout=90)
        seen = [h["version"] for h in status["history"]]
        expected = [rollout.mv(label), *history]
        assert seen == expected, f"run {run} (seed {SEED}): expected history {expected}, saw {seen}"
        rollout.expect_pods_serve(label)
        history = seen
    assert (
        flows.condition(rollout.cluster.get("canaries", rollout.name), "Degraded")["status"]
        == "False"
    )
