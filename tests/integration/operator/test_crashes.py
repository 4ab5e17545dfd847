"""The operator SIGKILLed at each fault point of a switch (operator/hotswap_operator/faults.py):
after routing.json is written, after `current` switches, after k of the N pods answered the
reload, after the status write. A fault point leaves a marker line before the kill, so each
test proves the kill landed where it says (the point, the pid of the armed process, what it had
done); then a fresh operator converges to the declared state with status history intact.

A stepped rollout (three steps) is killed 3 times at each point, at successive stages; `current`
switches once, at the promotion, so three Immediate switches are killed there too. The operator
runs as an armable copy: a test arms it by writing the point into its fault file.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hotswap_operator import faults

from hotswap import resources
from hotswap.local import operators
from tests.integration.operator import flows
from tests.integration.operator.conftest import PODS, Operator, Volume, register_fresh
from tests.integration.operator.given import Rollout

RUNS = 3
KILL_SECONDS = 60.0
FIRST_READY_SECONDS = 120  # the first routing of a session: three pods load at once
STEPS = {
    "type": "Steps",
    "steps": [
        {"name": "twenty", "setWeight": 20},
        {"name": "forty", "setWeight": 40},
        {"name": "sixty", "setWeight": 60},
    ],
}


class Crashes:
    """The operator, run as an armable copy of the session's (same identity, ports and log):
    the test writes a point into its fault file to arm it, empties the file to disarm it, and
    reads the marker lines its kills leave."""

    def __init__(self, operator: Operator, folder: Path) -> None:
        self.session, self.fault, self.marker = operator, folder / "fault", folder / "kills.jsonl"
        self.operator = operators.armable(operator, fault_file=self.fault, marker=self.marker)

    def kills(self) -> list[dict[str, Any]]:
        if not self.marker.exists():
            return []
        return [json.loads(line) for line in self.marker.read_text().splitlines()]

    def arm(self, fault: str) -> None:
        self.fault.write_text(fault)

    def disarm(self) -> None:
        self.fault.write_text("")

    def killed_at(
        self, fault: str, *, then: Any = None, until: Any = None
    ) -> dict[str, Any] | None:
        """Arm `fault` (starting the operator if it is not running), do `then()`; the marker
        line of the kill, or None when it still runs once `until()` holds (nothing left to
        cross the point). Disarmed either way."""
        seen = len(self.kills())
        self.arm(fault)
        if not self.operator.running:
            self.operator.start()
        if then is not None:
            then()
        process = self.operator.process
        assert process is not None

        def ended() -> tuple[bool, Any]:
            if process.poll() is not None:
                return True, process.returncode
            return bool(until and until()), None

        code = flows.until(ended, timeout=KILL_SECONDS, what=f"the operator killed at {fault}")
        self.disarm()
        new = self.kills()[seen:]
        if code is None and not new:
            return None
        process.wait(timeout=10)  # it may have crossed the point as `until()` came true
        assert len(new) == 1, f"expected one marker line for the kill at {fault}, saw {new}"
        assert new[0]["pid"] == process.pid, f"marked by another process: {new[0]}"
        assert process.returncode == -signal.SIGKILL, f"exit code {process.returncode}"
        return new[0]

    def run_until(self, until: Any) -> None:
        """Start the (disarmed) operator if it is not running and wait until `until()`."""
        if not self.operator.running:
            self.operator.start()
        what = "the rollout's next stage in status"
        flows.eventually(until, timeout=KILL_SECONDS, what=what, every=0.05)


@pytest.fixture
def crashes(operator: Operator, tmp_path: Path) -> Iterator[Crashes]:
    """The session's operator stopped for the test (its armable copy runs instead, disarmed),
    and running again after it (the Canary's finalizer is released by it)."""
    operator.kill()
    found = Crashes(operator, tmp_path)
    found.disarm()
    found.operator.start()
    yield found
    found.operator.kill()
    operator.start()


def fault_of(point: str, run: int) -> str:
    """The setting: `point`, or for the pods point `point:k` with k = 1, 2, 1, ... of 3."""
    return f"{point}:{1 + run % 2}" if point == faults.PODS_SIGNALLED else point


def expect_landed(kill: dict[str, Any] | None, point: str, *, rollout: Rollout) -> None:
    assert kill is not None and kill["point"] == point, f"expected a kill at {point}, saw {kill}"
    detail = kill["detail"]
    if point == faults.PODS_SIGNALLED:
        assert 1 <= detail["done"] <= detail["of"] <= PODS, detail
    if point == faults.STATUS_WRITTEN:
        assert detail["canary"] == rollout.name, f"killed after another Canary's status: {kill}"


def history_of(status: dict[str, Any]) -> list[tuple[str, str]]:
    return [(h["version"], h["outcome"]) for h in status["history"]]


def test_killed_after_current_switches_3_times_converges_every_time(
    rollout: Rollout, crashes: Crashes
) -> None:
    """Immediate switches (an instant rollback back and forth), each killed just after
    `current` switched: the one point a stepped rollout crosses only once, at its promotion."""
    point = faults.CURRENT_SWITCHED
    rollout.create("v1", historyLimit=50)
    history = history_of(rollout.ready_on("v1", timeout=FIRST_READY_SECONDS))
    for run in range(RUNS):
        label = "v2" if run % 2 == 0 else "v1"
        kill = crashes.killed_at(point, then=lambda label=label: rollout.deploy(label))
        expect_landed(kill, point, rollout=rollout)
        assert kill is not None and kill["detail"]["version"] == rollout.version_id(label), kill
        crashes.run_until(lambda: True)  # a fresh operator, disarmed
        status = rollout.ready_on(label, timeout=90)
        expected = [(rollout.mv(label), "Promoted"), *history]
        seen = history_of(status)
        assert seen == expected, f"run {run}, killed {kill}: expected {expected}, saw {seen}"
        rollout.expect_pods_serve(label)
        history = seen
    degraded = rollout.condition("Degraded")
    assert degraded["status"] == "False", f"expected not Degraded after the kills: {degraded}"


def stage_of(rollout: Rollout) -> tuple[Any, ...]:
    """Where the rollout stands in status: stable, canary, weight, step, Ready."""
    body = rollout.cluster.get(resources.CANARIES, rollout.name)
    status = body.get("status") or {}
    ready = flows.condition(body, "Ready")
    current = ready.get("observedGeneration") == body["metadata"]["generation"]
    keys = ("stableVersion", "canaryVersion", "weight", "currentStep")
    return (*(status.get(k) for k in keys), current and ready.get("status") == "True")


def test_stepped_rollouts_killed_at_each_point_again_and_again_complete(
    rollout: Rollout, crashes: Crashes, cluster: flows.Cluster, registered: Volume
) -> None:
    """One stepped rollout per point, each to a version that never served, on one Canary."""
    rollout.create("v1", historyLimit=50)
    history = history_of(rollout.ready_on("v1", timeout=FIRST_READY_SECONDS))
    for point in faults.POINTS:
        target = register_fresh(cluster, registered)
        kills = roll_out_killed(rollout, crashes, target, point=point)
        print(f"\n{point}: {len(kills)} kills: {[kill['detail'] for kill in kills]}")
        expect_kills_of_a_stepped_rollout(point, kills)
        crashes.run_until(lambda: True)
        status = rollout.ready_on(target, timeout=90)
        history = [(rollout.mv(target), "Promoted"), *history]
        assert history_of(status) == history, f"after {point}: {status['history']}"
        rollout.expect_pods_serve(target)


def roll_out_killed(
    rollout: Rollout, crashes: Crashes, target: str, *, point: str
) -> list[dict[str, Any]]:
    """Deploy `target` with three steps and kill the operator at `point` 3 times (or until it
    completes, for a point crossed less often): the kills. Each life runs disarmed until status
    records the next stage, then armed until it dies at its next crossing of the point. Armed
    from its start, a life would livelock where a kill comes before status records what was
    done (routing.json written, pods signalled): each life would first write back the routing
    status still declares, and die there."""
    rollout.deploy(target, strategy=STEPS)
    promoted = (rollout.mv(target), None, 0, None, True)

    def done() -> bool:
        return stage_of(rollout) == promoted

    kills: list[dict[str, Any]] = []
    while len(kills) < RUNS:
        kill = crashes.killed_at(fault_of(point, len(kills)), until=done)
        if kill is None:
            break
        expect_landed(kill, point, rollout=rollout)
        kills.append(kill)
        before = stage_of(rollout)
        if before == promoted:
            break
        crashes.run_until(lambda seen=before: stage_of(rollout) != seen)
    return kills


def expect_kills_of_a_stepped_rollout(point: str, kills: list[dict[str, Any]]) -> None:
    """`current` switches once, at the promotion; every other point is crossed at each stage
    (canary at 0, 20%, 40%, 60%, promoted), so it is killed there 3 times before the rollout
    completes; each routing generation is written once (a killed life's write is superseded,
    never repeated)."""
    details = [kill["detail"] for kill in kills]
    if point == faults.CURRENT_SWITCHED:
        assert len(details) == 1, f"expected one kill, at the promotion: {details}"
        return
    assert len(details) == RUNS, f"expected {RUNS} kills before the rollout completed: {details}"
    if point == faults.ROUTING_WRITTEN:
        generations = [detail["generation"] for detail in details]
        assert generations == sorted(set(generations)), f"a generation written twice: {details}"
