"""What a pod's answer means against the declared routing, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from hotswap_operator import reloading
from hotswap_operator.reloading import Pod, Reply

from hotswap.store.routes import Arm, Routing

OLD = Arm("20261128_100000_aaaaaaaa", "sha256:" + "a" * 64)
NEW = Arm("20261128_110000_bbbbbbbb", "sha256:" + "b" * 64)
ROUTING = Routing(stable=OLD, canary=NEW, weight=20, generation=7)
POD = Pod("inference-0", "127.0.0.10", 8001)


def answer(**fields: Any) -> dict[str, Any]:
    return ROUTING.to_dict() | {"model": "intent", "ready": True, "lastError": None} | fields


def failed(generation: int) -> dict[str, Any]:
    return {
        "error": "load_failed",
        "version": NEW.version,
        "reason": "x",
        "generation": generation,
        "time": "2026-11-28T14:30:00+00:00",
    }


CASES = [
    ("exactly the routing", 200, answer(), True, None),
    ("an older generation", 200, answer(generation=6), False, None),
    ("another weight", 200, answer(weight=50), False, None),
    ("no canary yet", 200, answer(canary=None, weight=0), False, None),
    ("unreachable", 0, {}, False, None),
    (
        "a load failure answer",
        422,
        {"error": "load_failed", "version": NEW.version, "reason": "digest mismatch"},
        False,
        ("inference-0", NEW.version, "digest mismatch"),
    ),
    (
        "a failure found by polling this generation",
        200,
        answer(generation=6, lastError=failed(7)),
        False,
        ("inference-0", NEW.version, "x"),
    ),
    (
        "an old failure is history",
        200,
        answer(lastError=failed(3)),
        True,
        None,
    ),
]


@pytest.mark.parametrize(
    ("what", "code", "body", "ready", "failure"), CASES, ids=[c[0] for c in CASES]
)
def test_pod_answers(what: str, code: int, body: dict[str, Any], ready: bool, failure: Any) -> None:
    reply = Reply(POD, code, body, error=None if code == 200 else "error")
    state = reloading.assess_pod(reply, ROUTING)
    assert state.ready is ready, f"{what}: expected ready={ready}, got {state}"
    found = reloading.failure_of(reply, ROUTING)
    seen = (found.pod, found.version, found.reason) if found else None
    assert seen == failure, f"{what}: expected failure {failure}, got {seen}"


def test_versions_are_reported_stable_first() -> None:
    state = reloading.assess_pod(Reply(POD, 200, answer()), ROUTING)
    assert state.versions == [OLD.version, NEW.version]
