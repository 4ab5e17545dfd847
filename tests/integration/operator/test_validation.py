"""The real API server rejects bad ModelVersions and Canaries with a message naming the field
(schema and CEL rules of crds/*.yaml); nothing here needs the operator."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client

from hotswap import resources
from tests.integration.operator import flows

VERSION_ID = "20261128_142501_3f9c1a2b"
DIGEST = "sha256:" + "ab" * 32


def model_version(**spec: Any) -> dict[str, Any]:
    base = {
        "model": "intent",
        "version": VERSION_ID,
        "artifactPath": f"intent/versions/{VERSION_ID}",
        "digest": DIGEST,
        "format": "joblib",
        "metrics": {"accuracy": 0.9, "macroF1": 0.9},
    }
    body = {
        "apiVersion": resources.API_VERSION,
        "kind": "ModelVersion",
        "metadata": {"name": "intent-20261128-142501-3f9c1a2b"},
        "spec": {k: v for k, v in (base | spec).items() if v is not None},
    }
    return body


def canary(name: str = "bad", **spec: Any) -> dict[str, Any]:
    base = {
        "model": "intent",
        "version": "intent-20261128-142501-3f9c1a2b",
        "selector": {"matchLabels": {"app": "x"}},
    }
    return {
        "apiVersion": resources.API_VERSION,
        "kind": "Canary",
        "metadata": {"name": name},
        "spec": {k: v for k, v in (base | spec).items() if v is not None},
    }


def steps(*items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Steps", "steps": list(items)}


def renamed(body: dict[str, Any], name: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    body["metadata"]["name"] = name
    return body


MV_MODEL = {"artifactPath": None}  # artifactPath follows the model; test the model alone
INVALID_MODEL_VERSIONS = [
    ("model with capitals", model_version(model="Intent"), "spec.model"),
    ("model with underscore", model_version(model="my_model"), "spec.model"),
    ("empty model", model_version(model=""), "spec.model"),
    ("model of 64 characters", model_version(model="a" * 64), "spec.model"),
    ("model starting with a dash", model_version(model="-intent"), "spec.model"),
    ("model ending with a dash", model_version(model="intent-"), "spec.model"),
    ("model as a number", model_version(model=7), "spec.model"),
    ("version not an id", model_version(version="v1"), "spec.version"),
    ("version with capital hex", model_version(version="20261128_142501_3F9C1A2B"), "spec.version"),
    ("version with dashes", model_version(version="20261128-142501-3f9c1a2b"), "spec.version"),
    ("version missing", model_version(version=None), "spec.version"),
    ("digest of another algorithm", model_version(digest="md5:" + "ab" * 16), "spec.digest"),
    ("digest too short", model_version(digest="sha256:abc"), "spec.digest"),
    ("digest in capitals", model_version(digest="sha256:" + "AB" * 32), "spec.digest"),
    ("digest without prefix", model_version(digest="ab" * 32), "spec.digest"),
    ("digest missing", model_version(digest=None), "spec.digest"),
    ("format unknown", model_version(format="pickle"), "spec.format"),
    ("format missing", model_version(format=None), "spec.format"),
    (
        "artifactPath of another model",
        model_version(artifactPath=f"other/versions/{VERSION_ID}"),
        "artifactPath must be",
    ),
    ("artifactPath absolute", model_version(artifactPath="/etc/passwd"), "spec.artifactPath"),
    (
        "artifactPath climbing out",
        model_version(artifactPath=f"intent/../../{VERSION_ID}"),
        "spec.artifactPath",
    ),
    ("artifactPath missing", model_version(artifactPath=None), "spec.artifactPath"),
    (
        "artifactPath in a bucket, of another model",
        model_version(artifactPath=f"s3://models/prod/other/versions/{VERSION_ID}"),
        "artifactPath must be",
    ),
    (
        "artifactPath in a bucket, climbing",
        model_version(artifactPath=f"s3://models/../intent/versions/{VERSION_ID}"),
        "artifactPath must be",
    ),
    (
        "artifactPath of another scheme",
        model_version(artifactPath=f"gs://models/intent/versions/{VERSION_ID}"),
        "spec.artifactPath",
    ),
    (
        "artifactPath in a bucket with a bad name",
        model_version(artifactPath=f"s3://Models/intent/versions/{VERSION_ID}"),
        "spec.artifactPath",
    ),
    ("accuracy above 1", model_version(metrics={"accuracy": 1.5}), "spec.metrics.accuracy"),
    ("accuracy below 0", model_version(metrics={"accuracy": -0.1}), "spec.metrics.accuracy"),
    ("macroF1 above 1", model_version(metrics={"macroF1": 2}), "spec.metrics.macroF1"),
    ("accuracy as text", model_version(metrics={"accuracy": "high"}), "spec.metrics.accuracy"),
    ("name not model-version", renamed(model_version(), "intent-latest"), "metadata.name must be"),
    ("no spec", {k: v for k, v in model_version().items() if k != "spec"}, "spec"),
]

STEP = {"name": "ten", "setWeight": 10}
INVALID_CANARIES = [
    ("model with capitals", canary(model="Intent"), "spec.model"),
    ("model missing", canary(model=None), "spec.model"),
    ("version with underscore", canary(version="intent_1"), "spec.version"),
    ("version missing", canary(version=None), "spec.version"),
    ("selector missing", canary(selector=None), "spec.selector"),
    ("selector without labels", canary(selector={"matchLabels": {}}), "spec.selector.matchLabels"),
    ("strategy unknown", canary(strategy={"type": "Roulette"}), "spec.strategy.type"),
    ("Bandit with steps", canary(strategy={"type": "Bandit", "steps": [STEP]}), "take no steps"),
    (
        "bandit settings under Steps",
        canary(strategy=steps(STEP) | {"bandit": {"floor": 5}}),
        "strategy.bandit applies to strategy.type Bandit only",
    ),
    (
        "bandit floor above ceiling",
        canary(strategy={"type": "Bandit", "bandit": {"floor": 60, "ceiling": 40}}),
        "floor <= initialWeight <= ceiling",
    ),
    (
        "bandit promote probability of one half",
        canary(strategy={"type": "Bandit", "bandit": {"promoteProbability": 0.5}}),
        "promoteProbability",
    ),
    ("analysis alpha of 0", canary(analysis={"alpha": 0}), "spec.analysis.alpha"),
    ("analysis alpha above one half", canary(analysis={"alpha": 0.9}), "spec.analysis.alpha"),
    ("analysis minSamples 0", canary(analysis={"minSamples": 0}), "spec.analysis.minSamples"),
    (
        "onInconclusive unknown",
        canary(analysis={"onInconclusive": "Shrug"}),
        "spec.analysis.onInconclusive",
    ),
    (
        "prometheus url not http",
        canary(analysis={"prometheus": {"url": "file:///etc/passwd"}}),
        "spec.analysis.prometheus.url",
    ),
    (
        "label drift above 1",
        canary(analysis={"labelDrift": {"maxShift": 1.5}}),
        "spec.analysis.labelDrift.maxShift",
    ),
    ("Steps without steps", canary(strategy={"type": "Steps"}), "needs a non-empty"),
    ("Steps with an empty list", canary(strategy=steps()), "needs a non-empty"),
    (
        "Immediate with steps",
        canary(strategy={"type": "Immediate", "steps": [STEP]}),
        "Immediate and Bandit take no steps",
    ),
    ("weight above 100", canary(strategy=steps({"name": "a", "setWeight": 101})), "setWeight"),
    ("weight below 0", canary(strategy=steps({"name": "a", "setWeight": -1})), "setWeight"),
    ("weight as text", canary(strategy=steps({"name": "a", "setWeight": "ten"})), "setWeight"),
    (
        "step with weight and pause",
        canary(strategy=steps({"name": "a", "setWeight": 5, "pause": {}})),
        "exactly one of",
    ),
    ("step with nothing", canary(strategy=steps({"name": "a"})), "exactly one of"),
    ("step without a name", canary(strategy=steps({"setWeight": 5})), "name"),
    ("step name in capitals", canary(strategy=steps({"name": "Ten", "setWeight": 5})), "name"),
    ("two steps of one name", canary(strategy=steps(STEP, STEP)), "Duplicate value"),
    (
        "pause of 0 seconds",
        canary(strategy=steps({"name": "p", "pause": {"durationSeconds": 0}})),
        "durationSeconds",
    ),
    (
        "pause of two days",
        canary(strategy=steps({"name": "p", "pause": {"durationSeconds": 172800}})),
        "durationSeconds",
    ),
    (
        "analysis step of two days",
        canary(strategy=steps({"name": "a", "analysis": {"maxDurationSeconds": 172800}})),
        "maxDurationSeconds",
    ),
    (
        "analysis minRequests 0",
        canary(strategy=steps({"name": "a", "analysis": {"minRequests": 0}})),
        "minRequests",
    ),
    (
        "33 steps",
        canary(strategy=steps(*({"name": f"s{i}", "setWeight": i} for i in range(33)))),
        "spec.strategy.steps",
    ),
    ("mirror above 100", canary(mirrorPercent=150), "spec.mirrorPercent"),
    ("mirror below 0", canary(mirrorPercent=-5), "spec.mirrorPercent"),
    ("sticky header with a space", canary(stickyHeader="X Bad"), "spec.stickyHeader"),
    ("sticky header Authorization", canary(stickyHeader="Authorization"), "must not carry"),
    ("sticky header cookie", canary(stickyHeader="cookie"), "spec.stickyHeader must not"),
    ("sticky header X-Forwarded-For", canary(stickyHeader="X-Forwarded-For"), "credentials"),
    ("gate without a metric", canary(offlineGate={"maxDrop": 0.1}), "spec.offlineGate.metric"),
    (
        "gate drop above 1",
        canary(offlineGate={"metric": "accuracy", "maxDrop": 2}),
        "spec.offlineGate.maxDrop",
    ),
    ("gate metric not a name", canary(offlineGate={"metric": "1abc"}), "spec.offlineGate.metric"),
    ("history of 0", canary(historyLimit=0), "spec.historyLimit"),
    ("history of 100", canary(historyLimit=100), "spec.historyLimit"),
]


def rejection(create: Callable[[], Any]) -> str:
    with pytest.raises(client.ApiException) as caught:
        create()
    assert caught.value.status == 422, f"expected 422 Invalid, got {caught.value.status}"
    return str(json.loads(caught.value.body)["message"])


@pytest.mark.parametrize(
    ("what", "body", "expected"), INVALID_MODEL_VERSIONS, ids=[c[0] for c in INVALID_MODEL_VERSIONS]
)
def test_invalid_model_version_is_rejected(
    cluster: flows.Cluster, what: str, body: dict[str, Any], expected: str
) -> None:
    message = rejection(lambda: cluster.create(resources.MODEL_VERSIONS, body))
    assert expected in message, (
        f"{what}: expected the message to name {expected!r}, got {message!r}"
    )


@pytest.mark.parametrize(
    ("what", "body", "expected"), INVALID_CANARIES, ids=[c[0] for c in INVALID_CANARIES]
)
def test_invalid_canary_is_rejected(
    cluster: flows.Cluster, what: str, body: dict[str, Any], expected: str
) -> None:
    message = rejection(lambda: cluster.create(resources.CANARIES, body))
    assert expected in message, (
        f"{what}: expected the message to name {expected!r}, got {message!r}"
    )


CHANGES = [
    ("digest", {"digest": "sha256:" + "cd" * 32}),
    ("metrics", {"metrics": {"accuracy": 0.5}}),
    ("format", {"format": "skops"}),
]


@pytest.mark.parametrize(("what", "change"), CHANGES, ids=[c[0] for c in CHANGES])
def test_model_version_spec_is_immutable(
    cluster: flows.Cluster, what: str, change: dict[str, Any]
) -> None:
    body = renamed(
        model_version(
            version="20261128_142501_00000001",
            artifactPath="intent/versions/20261128_142501_00000001",
        ),
        "intent-20261128-142501-00000001",
    )
    name = body["metadata"]["name"]
    cluster.delete(resources.MODEL_VERSIONS, name)
    cluster.create(resources.MODEL_VERSIONS, body)
    try:
        message = rejection(lambda: cluster.patch(resources.MODEL_VERSIONS, name, {"spec": change}))
        assert "ModelVersion spec is immutable" in message, f"changing {what}: got {message!r}"
    finally:
        cluster.delete(resources.MODEL_VERSIONS, name)


@pytest.mark.parametrize(
    "path",
    [
        f"intent/versions/{VERSION_ID}",
        f"s3://models/intent/versions/{VERSION_ID}",
        f"s3://ml.models/teams/search/intent/versions/{VERSION_ID}",
    ],
)
def test_an_artifact_path_on_the_volume_or_in_a_bucket_is_accepted(
    cluster: flows.Cluster, path: str
) -> None:
    """The twins of the refused artifact paths."""
    body = model_version(artifactPath=path)
    name = body["metadata"]["name"]
    cluster.delete(resources.MODEL_VERSIONS, name)
    created = cluster.create(resources.MODEL_VERSIONS, body)
    cluster.delete(resources.MODEL_VERSIONS, name)
    assert created["spec"]["artifactPath"] == path


def test_an_ordinary_sticky_header_is_accepted(cluster: flows.Cluster) -> None:
    """The twin of the denied sticky headers: a header of the caller's own passes the rule."""
    cluster.delete(resources.CANARIES, "sticky-ok")
    cluster.create(resources.CANARIES, canary("sticky-ok", stickyHeader="X-User-Bucket"))
    cluster.delete(resources.CANARIES, "sticky-ok")


def test_a_bandit_and_a_full_analysis_are_accepted(cluster: flows.Cluster) -> None:
    """The twin of the refused Bandit and analysis specs: every field set within bounds."""
    analysis = {
        "alpha": 0.01,
        "minSamples": 500,
        "maxDurationSeconds": 600,
        "onInconclusive": "Rollback",
        "intervalSeconds": 5,
        "errorRate": {"failAbove": 0.001, "passBelow": 0.005},
        "slowRate": {"enabled": False},
        "reward": {"passBelow": 0.01},
        "labelDrift": {"maxShift": 0.05},
        "prometheus": {"url": "http://prometheus.monitoring:9090"},
    }
    bandit = {"floor": 5, "initialWeight": 10, "ceiling": 50, "promoteProbability": 0.99}
    body = canary("bandit-ok", strategy={"type": "Bandit", "bandit": bandit}, analysis=analysis)
    cluster.delete(resources.CANARIES, "bandit-ok")
    created = cluster.create(resources.CANARIES, body)
    cluster.delete(resources.CANARIES, "bandit-ok")
    assert created["spec"]["strategy"]["bandit"]["minFeedback"] == 100, "defaults applied"
    assert created["spec"]["analysis"]["reward"]["enabled"] is True


def test_canary_model_is_immutable(cluster: flows.Cluster) -> None:
    cluster.create(resources.CANARIES, canary("immutable-model"))
    try:
        message = rejection(
            lambda: cluster.patch(
                resources.CANARIES, "immutable-model", {"spec": {"model": "other"}}
            )
        )
        assert "spec.model is immutable" in message, f"got {message!r}"
    finally:
        cluster.delete(resources.CANARIES, "immutable-model")


def test_at_least_fifty_kinds_of_invalid_objects_are_covered() -> None:
    count = len(INVALID_MODEL_VERSIONS) + len(INVALID_CANARIES) + len(CHANGES) + 1
    assert count >= 50, f"expected >= 50 invalid objects, have {count}"
