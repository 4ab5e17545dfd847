"""The admin protocol: verify before serving, generations, refusals, status, tokens."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from hotswap.store import publishing, routes

from . import models, pods
from .conftest import MakePod

Versions = tuple[publishing.Published, publishing.Published]


def serving_version(pod: pods.Pod) -> str:
    return httpx.post(f"{pod.url}/predict", json={"input": "refund"}).headers["X-Model-Version"]


def post_routing(pod: pods.Pod, routing: routes.Routing, **extra: object) -> httpx.Response:
    return pod.admin("POST", "/admin/reload", json=models.reload_body(routing) | extra)


@pytest.fixture
def pod(make_pod: MakePod, root: Path, two_versions: Versions) -> pods.Pod:
    models.write_routing(root, two_versions[0], generation=1)
    return make_pod()


def test_reload_serves_the_new_version_and_status_reports_it(
    pod: pods.Pod, two_versions: Versions
) -> None:
    new = two_versions[1]
    response = post_routing(pod, routes.Routing(stable=models.arm(new), generation=2))
    assert response.status_code == 200, response.text
    status = pod.admin("GET", "/admin/status").json()
    expected = {"model": "intent", "generation": 2, "ready": True, "lastError": None}
    assert {k: status[k] for k in expected} == expected
    assert status["stable"] == {"version": new.version, "digest": new.digest}
    assert set(status["predictors"]) == {new.version}, status["predictors"]
    assert status["pid"] == os.getpid()
    assert serving_version(pod) == new.version


def test_same_generation_is_a_noop_and_lower_is_stale(
    pod: pods.Pod, two_versions: Versions
) -> None:
    old, new = two_versions
    same = post_routing(pod, routes.Routing(stable=models.arm(new), generation=1))
    assert same.status_code == 200 and same.json()["outcome"] == "noop", same.text
    assert serving_version(pod) == old.version, "expected a same-generation POST to change nothing"
    stale = post_routing(pod, routes.Routing(stable=models.arm(new), generation=0))
    assert stale.status_code == 409, f"expected 409 stale, saw {stale.status_code} {stale.text}"


def test_digest_mismatch_is_refused_and_the_old_version_keeps_serving(
    pod: pods.Pod, two_versions: Versions
) -> None:
    old, new = two_versions
    wrong = routes.Arm(new.version, old.digest)
    response = post_routing(pod, routes.Routing(stable=wrong, generation=2))
    assert response.status_code == 422, f"expected 422, saw {response.status_code}"
    body = response.json()
    assert body["error"] == "load_failed" and body["version"] == new.version, body
    assert "digest mismatch" in body["reason"], body
    assert serving_version(pod) == old.version
    last = pod.admin("GET", "/admin/status").json()["lastError"]
    assert last is not None and last["version"] == new.version, last


def test_truncated_artifact_is_refused(pod: pods.Pod, root: Path, two_versions: Versions) -> None:
    old, new = two_versions
    artifact = new.path / "model.joblib"
    artifact.chmod(0o644)
    artifact.write_bytes(artifact.read_bytes()[:100])
    response = post_routing(pod, routes.Routing(stable=models.arm(new), generation=2))
    assert response.status_code == 422, f"expected 422, saw {response.status_code}"
    assert "truncated" in response.json()["reason"], response.text
    assert serving_version(pod) == old.version


@pytest.mark.parametrize(
    "version",
    ["../../etc", "20261128_142501_3f9c1a2b/../../x", "/etc/passwd", "..", "", "a" * 300],
)
def test_a_version_outside_the_model_is_refused(pod: pods.Pod, version: str) -> None:
    body = {"model": "intent", "stable": {"version": version, "digest": "sha256:" + "0" * 64}}
    response = pod.admin("POST", "/admin/reload", json=body | {"generation": 5})
    assert 400 <= response.status_code < 500, f"expected 4xx for {version!r}, saw {response}"
    assert response.json()["error"] == "invalid_routing", response.text


def test_an_unpublished_version_is_a_load_failure(pod: pods.Pod) -> None:
    missing = routes.Arm("20200101_000000_deadbeef", "sha256:" + "1" * 64)
    response = post_routing(pod, routes.Routing(stable=missing, generation=3))
    assert response.status_code == 422 and response.json()["error"] == "load_failed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stable": {"version": "x"}}, "model"),
        ({"model": "other", "stable": {}}, "model"),
        ([1, 2], "body"),
        ({"model": "intent", "stable": {}, "generation": 1}, "routing"),
        ({"model": "intent", "weight": 50, "generation": 1}, "routing"),
    ],
)
def test_malformed_reload_bodies_name_the_field(pod: pods.Pod, body: object, field: str) -> None:
    response = pod.admin("POST", "/admin/reload", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["field"] == field, response.text


@pytest.mark.parametrize("token", [None, "wrong", "test-reload-tokenX"])
def test_reload_and_status_without_the_token_are_401(pod: pods.Pod, token: str | None) -> None:
    for method, path in (("POST", "/admin/reload"), ("GET", "/admin/status")):
        response = pod.admin(method, path, token=token, json={})
        assert response.status_code == 401, f"expected 401 on {path}, saw {response.status_code}"


def test_no_configured_token_refuses_every_request(make_pod: MakePod, root: Path) -> None:
    pod = make_pod(ready=False, reload_token=None)
    response = pod.admin("GET", "/admin/status", token="anything")
    assert response.status_code == 401, response.text
    assert "no reload token" in response.json()["message"]


def test_token_file_is_read(make_pod: MakePod, root: Path, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    pod = make_pod(ready=False, reload_token=None, reload_token_file=token_file)
    assert pod.admin("GET", "/admin/status", token="from-a-file").status_code == 200
    assert pod.admin("GET", "/admin/status", token=pods.TOKEN).status_code == 401


def test_admin_paths_are_not_on_the_serving_port(pod: pods.Pod) -> None:
    response = httpx.get(f"{pod.url}/admin/status", headers={"Authorization": "Bearer x"})
    assert response.status_code == 404, f"expected 404 on the serving port, saw {response}"
