"""Pods without the shared volume: each loads from a bucket through its own cache.

A version is downloaded and verified before it is loaded; a corrupt object or a store that is
down leaves the current version serving and says why; a version the routing no longer needs is
evicted from the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from hotswap.local import objectstores
from hotswap.store import buckets, publishing, remotes, versions
from hotswap.store.layout import ModelPaths
from hotswap.store.routes import Routing

from . import models, pods

Versions = tuple[publishing.Published, publishing.Published]


@pytest.fixture
def s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[objectstores.ObjectStoreServer]:
    server = objectstores.start(tmp_path / "s3")
    server.bucket("models")
    for key, value in server.environ.items():
        monkeypatch.setenv(key, value)
    yield server
    server.stop()


@pytest.fixture
def bucket(s3: objectstores.ObjectStoreServer) -> buckets.Bucket:
    return s3.bucket("models", prefix="prod")


@pytest.fixture
def uploaded(root: Path, bucket: buckets.Bucket, two_versions: Versions) -> Versions:
    """Both versions trained on a build machine's volume, then published to the bucket."""
    for published in two_versions:
        record = versions.get_version(ModelPaths(root, models.MODEL), published.version)
        remotes.publish_folder(bucket, published.path, record)
    return two_versions


@pytest.fixture
def pod_on_bucket(tmp_path: Path) -> Iterator[Callable[[], pods.Pod]]:
    started: list[pods.Pod] = []

    def make() -> pods.Pod:
        chosen = pods.pod_settings(
            tmp_path / "cache", store="s3://models/prod", retry_failed_seconds=0.5
        )
        pod = pods.Pod(chosen).start()
        started.append(pod)
        return pod

    yield make
    for pod in started:
        pod.stop()


def routing(stable: publishing.Published, canary: publishing.Published | None, gen: int) -> Routing:
    return Routing(
        stable=models.arm(stable),
        canary=models.arm(canary) if canary else None,
        weight=50 if canary else 0,
        generation=gen,
    )


def served(pod: pods.Pod) -> str:
    answer = httpx.post(f"{pod.url}/predict", json={"input": "refund"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.headers["X-Model-Version"]


def cached(tmp_path: Path) -> set[str]:
    folder = tmp_path / "cache" / models.MODEL / "versions"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def test_a_pod_with_an_empty_cache_serves_what_the_bucket_routes(
    bucket: buckets.Bucket,
    uploaded: Versions,
    pod_on_bucket: Callable[[], pods.Pod],
    tmp_path: Path,
) -> None:
    old, new = uploaded
    remotes.write_routing(bucket, models.MODEL, routing(old, None, 1))
    assert cached(tmp_path) == set()
    pod = pod_on_bucket()
    pod.wait_ready()
    assert served(pod) == old.version
    assert cached(tmp_path) == {old.version}

    reply = pod.admin("POST", "/admin/reload", json=models.reload_body(routing(old, new, 2)))
    assert reply.status_code == 200, reply.text
    assert cached(tmp_path) == {old.version, new.version}
    reply = pod.admin("POST", "/admin/reload", json=models.reload_body(routing(new, None, 3)))
    assert reply.status_code == 200, reply.text
    assert served(pod) == new.version
    assert cached(tmp_path) == {new.version}, "the version no longer routed is evicted"


def test_a_corrupt_object_is_refused_and_the_current_version_serves_on(
    bucket: buckets.Bucket,
    uploaded: Versions,
    pod_on_bucket: Callable[[], pods.Pod],
    tmp_path: Path,
) -> None:
    old, new = uploaded
    remotes.write_routing(bucket, models.MODEL, routing(old, None, 1))
    key = buckets.version_key(bucket.uri, models.MODEL, new.version, "model.joblib")
    blob = bucket.read(key)
    assert blob is not None
    bucket.write(key, blob.data[:-10])  # truncated in the bucket
    pod = pod_on_bucket()
    pod.wait_ready()

    reply = pod.admin("POST", "/admin/reload", json=models.reload_body(routing(new, None, 2)))
    assert reply.status_code == 422 and reply.json()["error"] == "load_failed", reply.text
    assert "corrupt or truncated" in reply.text
    assert served(pod) == old.version
    assert cached(tmp_path) == {old.version}, "nothing unverified is left in the cache"
    status = pod.admin("GET", "/admin/status").json()
    assert new.version in str(status["lastError"]), status


def test_a_store_down_mid_rollout_leaves_pods_serving_then_they_converge(
    s3: objectstores.ObjectStoreServer,
    bucket: buckets.Bucket,
    uploaded: Versions,
    pod_on_bucket: Callable[[], pods.Pod],
) -> None:
    old, new = uploaded
    remotes.write_routing(bucket, models.MODEL, routing(old, None, 1))
    pod = pod_on_bucket()
    pod.wait_ready()
    s3.stop()

    reply = pod.admin("POST", "/admin/reload", json=models.reload_body(routing(new, None, 2)))
    assert reply.status_code == 422, reply.text  # the download failed: the fault landed
    assert "GetObject" in reply.text or "Unavailable" in reply.text, reply.text
    answers = [served(pod) for _ in range(20)]  # the store is down: the pod serves on
    assert set(answers) == {old.version}

    restarted = s3.restart()
    try:
        remotes.write_routing(bucket, models.MODEL, routing(new, None, 2))
        pod.wait_for(lambda: served(pod) == new.version, "the routed version after the outage")
    finally:
        restarted.stop()
