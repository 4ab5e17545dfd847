"""Signals nobody can poison, on the three inference processes the operator reads: feedback
counts only with a valid token, once, to the arm that answered; input that cannot be
predicted is a 400, never a server error counted against a version."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from hotswap.local.replicas import Replica
from hotswap.store.reports import PodReport
from tests.integration.operator.given import Rollout


def post(pod: Replica, path: str, body: Any, **headers: str) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://{pod.host}:{pod.port}{path}",
        data=raw,
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(json.loads(answer.read()))
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(json.loads(exc.read() or b"{}"))


def signals_of(pod: Replica, version: str) -> tuple[int, int, int]:
    """(requests, errors, feedback count) the pod reports for `version` on the stable arm."""
    report = PodReport.from_dict(pod.admin_status())
    assert report.signals is not None, f"{pod.name} reports no signals"
    arm = report.signals.arm(version, "stable")
    return (arm.requests, arm.errors, arm.feedback_count) if arm else (0, 0, 0)


def forged(token: str) -> str:
    """The same token with its claimed arm changed (the signature no longer matches)."""
    changed = token.replace(".stable.", ".canary.", 1)
    assert changed != token, f"expected a token naming the stable arm: {token}"
    return changed


def test_feedback_counts_once_with_a_valid_token_only(rollout: Rollout) -> None:
    rollout.create("v1")
    rollout.ready_on("v1")
    version = rollout.version_id("v1")
    first, second = rollout.pods[0], rollout.pods[1]
    code, answer = post(first, "/predict", {"input": "order me a pizza"})
    assert code == 200 and answer.get("feedback_token"), answer
    token = answer["feedback_token"]
    before = signals_of(second, version)
    refused = {
        "forged": post(second, "/feedback", {"feedback_token": forged(token), "reward": 1}),
        "made up": post(second, "/feedback", {"feedback_token": "abc.def", "reward": 1}),
        "request id only": post(
            second, "/feedback", {"request_id": answer["request_id"], "reward": 1}
        ),
    }
    for what, (status, body) in refused.items():
        assert 400 <= status < 500 and body.get("message"), f"{what}: {status} {body}"
    assert signals_of(second, version)[2] == before[2], "a refused feedback must not be counted"
    credited = post(second, "/feedback", {"feedback_token": token, "reward": 1})
    assert credited[0] == 200 and credited[1].get("arm") == "stable", credited
    replayed = post(second, "/feedback", {"feedback_token": token, "reward": 1})
    assert replayed[0] == 409, f"a replayed token must be refused: {replayed}"
    assert signals_of(second, version)[2] == before[2] + 1, "credited exactly once"


def test_unpredictable_input_is_a_400_not_an_error_of_the_version(rollout: Rollout) -> None:
    """The live load keeps counting requests meanwhile, so errors are what is compared."""
    rollout.create("v1")
    rollout.ready_on("v1")
    pod, version = rollout.pods[2], rollout.version_id("v1")
    before = signals_of(pod, version)
    hostile: dict[str, Any] = {
        "float overflow": b'{"input": [1e308, 2.0]}',
        "deep nesting": b'{"input": ' + b"[" * 2000 + b'"x"' + b"]" * 2000 + b"}",
        "huge integer": b'{"input": ' + b"9" * 400 + b"}",
    }
    for what, body in hostile.items():
        status, answer = post(pod, "/predict", body, **{"X-Request-Key": "attacker"})
        assert status == 400 and answer.get("error"), f"{what}: {status} {answer}"
    _, errors, _ = signals_of(pod, version)
    assert errors == before[1], f"bad input was counted as a server error: {before} -> {errors}"
