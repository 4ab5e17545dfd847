"""Signed feedback tokens, tried as a hostile client would: forged, tampered, replayed, expired.

Tokens are built here independently of the service (the stdlib's HMAC-SHA256 over the documented
text), so these tests hold the wire format, not just a round trip through the same code.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from hotswap_inference import feedbacks, signing
from hotswap_inference.errors import FeedbackTokenExpired, FeedbackTokenReplayed

from hotswap.store import publishing, reports

from . import models, pods
from .conftest import MakePod
from .test_signals import keys_for

Versions = tuple[publishing.Published, publishing.Published]
TTL = 3600


def sign(issued: int, version: str, arm: str, request_id: str, key: str = pods.FEEDBACK_KEY) -> str:
    """A token as docs/inference.md describes it: `1.<issued>.<version>.<arm>.<mac>.<request id>`,
    the mac the first 16 bytes (hex) of HMAC-SHA256 over the token without `.<mac>`."""
    head = f"1.{issued}.{version}.{arm}"
    mac = hmac.digest(key.encode(), f"{head}.{request_id}".encode(), hashlib.sha256)
    return f"{head}.{mac[:16].hex()}.{request_id}"


def fields_of(token: str) -> tuple[int, str, str, str]:
    """(issued, version, arm, request id) of a token."""
    _, issued, version, arm, _, request_id = token.split(".", 5)
    return int(issued), version, arm, request_id


def predict(pod: pods.Pod, key: str | None = None) -> httpx.Response:
    headers = {"X-Request-Key": key} if key else {}
    response = httpx.post(f"{pod.url}/predict", json={"input": "pizza"}, headers=headers)
    assert response.status_code == 200, response.text
    return response


def send(pod: pods.Pod, token: Any, reward: Any = 1.0, **extra: Any) -> httpx.Response:
    body = {"feedback_token": token, "reward": reward} | extra
    return httpx.post(f"{pod.url}/feedback", json=body)


def feedback_of(pod: pods.Pod, version: str, arm: str) -> int:
    body = pod.admin("GET", "/admin/status").json()
    signals = reports.PodReport.from_dict(body).signals
    found = signals.arm(version, arm) if signals else None
    return found.feedback_count if found else 0


def refused(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, f"expected {status} {error}, saw {response.text}"
    body = response.json()
    assert body["error"] == error and body["field"] == "feedback_token", body


@pytest.fixture
def split_pod(make_pod: MakePod, root: Path, two_versions: Versions) -> pods.Pod:
    models.write_routing(root, *two_versions, weight=50, generation=1)
    pod = make_pod()
    pod.wait_for(lambda: pod.service.reloader.state.canary() is not None, "a canary")
    return pod


def test_a_token_is_credited_once_to_the_arm_it_names_not_the_one_the_client_names(
    split_pod: pods.Pod, two_versions: Versions
) -> None:
    stable, canary = two_versions
    answer = predict(split_pod, keys_for("stable", 1)[0])
    token = answer.json()["feedback_token"]
    assert answer.headers["X-Feedback-Token"] == token
    assert fields_of(token)[1:] == (stable.version, "stable", answer.json()["request_id"])
    assert sign(*fields_of(token)) == token, "the token is the documented HMAC"
    claimed = {"arm": "canary", "model_version": canary.version}
    first = send(split_pod, token, 0.75, **claimed)
    assert first.status_code == 200, first.text
    assert (first.json()["arm"], first.json()["model_version"]) == ("stable", stable.version)
    refused(send(split_pod, token, 0.75, **claimed), 409, "feedback_token_replayed")
    assert feedback_of(split_pod, stable.version, "stable") == 1
    assert feedback_of(split_pod, canary.version, "canary") == 0


def test_made_up_forged_and_tampered_tokens_are_refused(
    split_pod: pods.Pod, two_versions: Versions
) -> None:
    stable, canary = two_versions
    genuine = predict(split_pod, keys_for("stable", 1)[0]).json()["feedback_token"]
    issued, _, _, request_id = fields_of(genuine)
    signature = genuine.split(".")[4]
    cases = {
        "made up": "not-a-token",
        "wrong shape": "1.abc.v.stable.00.r",
        "non-ASCII signature": genuine.replace(signature, signature[:-1] + "é"),
        "signed with another key": sign(issued, stable.version, "stable", request_id, "x" * 32),
        "arm changed": genuine.replace(".stable.", ".canary.", 1),
        "version changed": genuine.replace(stable.version, canary.version, 1),
        "request id changed": genuine + "x",
        "issue time changed": genuine.replace(f"1.{issued}.", f"1.{issued + 1}.", 1),
        "signature in upper case": genuine.replace(signature, signature.upper()),
    }
    for name, token in cases.items():
        response = send(split_pod, token)
        assert response.status_code == 403, f"{name}: expected 403, saw {response.text}"
        refused(response, 403, "feedback_token_invalid")
    assert feedback_of(split_pod, canary.version, "canary") == 0
    assert send(split_pod, genuine).status_code == 200, "the genuine token is credited"


def test_an_expired_token_is_refused_and_one_within_the_ttl_is_credited(
    split_pod: pods.Pod, two_versions: Versions
) -> None:
    version, now = two_versions[0].version, int(time.time())
    expired = sign(now - TTL - 30, version, "stable", "old-request")
    refused(send(split_pod, expired), 410, "feedback_token_expired")
    assert "HOTSWAP_FEEDBACK_TTL_SECONDS" in send(split_pod, expired).json()["message"]
    fresh = sign(now - TTL + 60, version, "stable", "recent-request")
    assert send(split_pod, fresh).status_code == 200
    from_the_future = sign(now + 3600, version, "stable", "future-request")
    refused(send(split_pod, from_the_future), 403, "feedback_token_invalid")


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"request_id": "0123", "reward": 1}, "feedback_token", "request_id alone"),
        ({"feedback_token": 7, "reward": 1}, "feedback_token", "feedback_token of a prediction"),
        ({"feedback_token": "x" * 2000, "reward": 1}, "feedback_token", "prediction response"),
        ({"reward": 2}, "reward", "from 0 to 1"),
        ({"reward": True}, "reward", "from 0 to 1"),
        ({}, "reward", "got None"),
        (["a list"], "body", "JSON object"),
    ],
)
def test_bad_feedback_bodies_are_400_naming_the_field(
    split_pod: pods.Pod, body: Any, field: str, words: str
) -> None:
    token = predict(split_pod).json()["feedback_token"]
    if isinstance(body, dict) and "request_id" not in body:
        body = {"feedback_token": token} | body
    response = httpx.post(f"{split_pod.url}/feedback", json=body)
    assert response.status_code == 400, f"expected 400 for {body}, saw {response.text}"
    assert response.json()["field"] == field and words in response.json()["message"], response.text
    assert send(split_pod, token).status_code == 200, "the twin: the same token, a good body"


def test_without_a_key_answers_carry_no_token_and_feedback_names_the_setting(
    make_pod: MakePod, root: Path, two_versions: Versions
) -> None:
    models.write_routing(root, two_versions[0], generation=1)
    pod = make_pod(feedback_key=None)
    answer = predict(pod)
    assert "feedback_token" not in answer.json() and "X-Feedback-Token" not in answer.headers
    token = sign(int(time.time()), two_versions[0].version, "stable", "r")
    response = send(pod, token)
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "feedback_disabled", response.text
    assert "HOTSWAP_FEEDBACK_KEY_FILE" in response.json()["message"], response.text


def test_a_rotated_key_file_applies_and_the_previous_key_still_verifies(
    make_pod: MakePod,
    root: Path,
    two_versions: Versions,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(signing, "REREAD_SECONDS", 0.0)
    key_file = tmp_path / "feedback-key"
    old_key, new_key = "old-key-" + "a" * 24, "new-key-" + "b" * 24
    key_file.write_text(old_key + "\n")
    models.write_routing(root, two_versions[0], generation=1)
    pod = make_pod(feedback_key=None, feedback_key_file=key_file)
    old_token = predict(pod).json()["feedback_token"]
    key_file.write_text(new_key + "\n")
    new_token = predict(pod).json()["feedback_token"]
    for token, key in ((old_token, old_key), (new_token, new_key)):
        assert sign(*fields_of(token), key=key) == token, f"expected {token} signed with {key}"
        assert send(pod, token).status_code == 200, "signed with the current or previous key"
    third = sign(int(time.time()), two_versions[0].version, "stable", "r", "c" * 32)
    refused(send(pod, third), 403, "feedback_token_invalid")


def claim(issued: int, name: str) -> signing.Claim:
    return signing.Claim(name, "20261128_100000_aaaaaaaa", "stable", issued, name)


def test_spent_tokens_forget_at_the_cap_without_ever_crediting_twice() -> None:
    spent = feedbacks.SpentTokens(ttl_seconds=TTL, cap=2)
    now = 1_000.0
    for name, issued in (("a", 100), ("b", 101), ("c", 102)):
        spent.spend(claim(issued, name), now=now)
    assert len(spent) == 2, "the cap holds"
    with pytest.raises(FeedbackTokenExpired):  # forgotten: refused, not credited again
        spent.spend(claim(100, "a"), now=now)
    with pytest.raises(FeedbackTokenReplayed):  # remembered
        spent.spend(claim(101, "b"), now=now)
    spent.spend(claim(103, "d"), now=now)  # the twin: a new token is credited
    later = 103 + TTL + 1.0
    spent.spend(claim(int(later), "e"), now=later)
    assert len(spent) == 1, "tokens past their TTL are forgotten"


@pytest.mark.parametrize("length", [16, 63, 64, 65, 200])
def test_the_precomputed_mac_is_hmac_sha256(length: int) -> None:
    key = bytes(i % 256 for i in range(length))
    raw = b"1.1.20261128_100000_aaaaaaaa.stable.r"
    expected = hmac.digest(key, raw, hashlib.sha256)
    assert signing.Mac(key).sign(raw) == expected, f"key of {length} bytes"
    assert signing.Mac(key).sign(raw + b" ") != expected, "the twin: another payload differs"
