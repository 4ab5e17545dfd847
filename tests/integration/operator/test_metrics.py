"""The operator's Canary gauges on its metrics port, scraped and parsed as Prometheus would:
they follow the status the operator writes (after an Immediate deploy, during a paused step),
carry one series per condition type, and are gone once the Canary is deleted."""

from __future__ import annotations

import urllib.request
from typing import Any, Protocol

from prometheus_client.parser import text_string_to_metric_families

from hotswap import resources
from tests.integration.operator import flows, given

WEIGHT, STEP = "hotswap_operator_canary_weight", "hotswap_operator_canary_step"
CONDITION = "hotswap_operator_canary_condition"
TWENTY_THEN_HOLD = {
    "type": "Steps",
    "steps": [{"name": "twenty", "setWeight": 20}, {"name": "hold", "pause": {}}],
}
Gauges = dict[str, Any]


class Operator(Protocol):
    """The `operator` fixture: its environment names its metrics port (on 127.0.0.1)."""

    env: dict[str, str]


def scrape(operator: Operator, canary: str) -> Gauges:
    """What the metrics port shows of `canary`: weight, step, and its (type, status, reason)s."""
    port = operator.env["HOTSWAP_OPERATOR_METRICS_PORT"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    found: Gauges = {WEIGHT: [], STEP: [], CONDITION: set()}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name not in found or sample.labels.get("canary") != canary:
                continue
            if sample.name == CONDITION:
                labels = sample.labels
                assert sample.value == 1.0, f"expected 1 for every condition series, saw {sample}"
                found[CONDITION].add((labels["type"], labels["status"], labels["reason"]))
            else:
                found[sample.name].append((sample.labels["model"], sample.value))
    return found


def expected_from(status: dict[str, Any]) -> Gauges:
    step = status.get("currentStep")
    return {
        WEIGHT: [(flows.MODEL, float(status.get("weight") or 0))],
        STEP: [(flows.MODEL, -1.0 if step is None else float(step))],
        CONDITION: {(c["type"], c["status"], c["reason"]) for c in status["conditions"]},
    }


def gauges_show(operator: Operator, rollout: given.Rollout, status: dict[str, Any]) -> Gauges:
    """The scrape once it matches `status` (the gauges are set right after the status write)."""
    expected = expected_from(status)
    shown: Gauges = flows.until(
        lambda: ((seen := scrape(operator, rollout.name)) == expected, seen),
        timeout=15,
        what=f"the operator's gauges of Canary {rollout.name} at {expected}",
    )
    return shown


def test_gauges_follow_an_immediate_deploy(operator: Operator, rollout: given.Rollout) -> None:
    rollout.create("v1")
    rollout.ready_on("v1")
    rollout.deploy("v2")
    status = rollout.ready_on("v2")

    seen = gauges_show(operator, rollout, status)
    assert (seen[WEIGHT], seen[STEP]) == ([(flows.MODEL, 0.0)], [(flows.MODEL, -1.0)]), seen
    conditions = {kind: (value, reason) for kind, value, reason in seen[CONDITION]}
    assert conditions == {
        "Ready": ("True", "Converged"),
        "Progressing": ("False", "RolloutComplete"),
        "Degraded": ("False", "Healthy"),
    }, f"expected one series per condition type, the flipped ones replaced; saw {seen[CONDITION]}"


def test_gauges_during_a_paused_step_then_gone_with_the_canary(
    operator: Operator, rollout: given.Rollout, fresh: str
) -> None:
    rollout.create("v1")
    rollout.ready_on("v1")
    rollout.deploy(fresh, strategy=TWENTY_THEN_HOLD)
    status = rollout.wait(
        "the open pause at 20% on every pod",
        lambda s: s.get("currentStep") == 1 and given.paused_in(s) and s.get("convergedPods") == 3,
    )

    seen = gauges_show(operator, rollout, status)
    assert (seen[WEIGHT], seen[STEP]) == ([(flows.MODEL, 20.0)], [(flows.MODEL, 1.0)]), seen
    assert ("Progressing", "True", "Paused") in seen[CONDITION], seen[CONDITION]

    rollout.cluster.delete(resources.CANARIES, rollout.name)
    empty: Gauges = {WEIGHT: [], STEP: [], CONDITION: set()}
    flows.until(
        lambda: ((left := scrape(operator, rollout.name)) == empty, left),
        timeout=30,
        what=f"no series of the deleted Canary {rollout.name}",
    )


POD_REQUESTS = "hotswap_operator_pod_requests_total"


def pod_requests(operator: Operator) -> dict[str, float]:
    """The operator's admin requests to the test model's pods so far, by call."""
    port = operator.env["HOTSWAP_OPERATOR_METRICS_PORT"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    found = {"status": 0.0, "reload": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == POD_REQUESTS and sample.labels.get("model") == flows.MODEL:
                found[sample.labels["call"]] = sample.value
    return found


def test_a_switch_from_a_settled_canary_asks_no_pod_its_status(
    operator: Operator, rollout: given.Rollout
) -> None:
    """The pods' answers when the Canary settled stand in for asking them again when the next
    spec rewrites the routing: each pod is signalled once and its answer confirms the switch.
    A spec that moves nothing (a version that does not exist) asks every pod, as a tick does."""
    pods = len(rollout.pods)
    rollout.create("v1")
    rollout.ready_on("v1")
    before = pod_requests(operator)
    rollout.deploy("v2")
    rollout.ready_on("v2")
    switched = pod_requests(operator)
    assert switched["reload"] - before["reload"] == pods, (before, switched)
    assert switched["status"] == before["status"], (before, switched)

    rollout.cluster.patch(resources.CANARIES, rollout.name, {"spec": {"version": "intent-none"}})
    generation = rollout.cluster.get(resources.CANARIES, rollout.name)["metadata"]["generation"]
    rollout.wait(
        "the missing version observed",
        lambda s: s.get("observedGeneration") == generation,
    )
    looked = pod_requests(operator)
    assert looked["status"] - switched["status"] >= pods, (switched, looked)
    assert looked["reload"] == switched["reload"], (switched, looked)
