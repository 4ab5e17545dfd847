"""The polling fallback: routing.json and `current` are picked up without a POST."""

from __future__ import annotations

from pathlib import Path

import httpx

from hotswap.store import publishing, switching
from hotswap.store.layout import ModelPaths

from . import models
from .conftest import MakePod

Versions = tuple[publishing.Published, publishing.Published]


def version_of(url: str) -> str:
    return httpx.post(f"{url}/predict", json={"input": "refund"}).headers["X-Model-Version"]


def test_a_newer_routing_json_is_applied_without_a_post(
    make_pod: MakePod, root: Path, two_versions: Versions
) -> None:
    old, new = two_versions
    models.write_routing(root, old, generation=1)
    pod = make_pod()
    assert version_of(pod.url) == old.version
    models.write_routing(root, new, generation=2)
    pod.wait_for(lambda: version_of(pod.url) == new.version, f"version {new.version} served")
    assert pod.service.reloader.state.generation == 2


def test_without_routing_json_current_serves_and_a_switch_is_followed(
    make_pod: MakePod, root: Path, two_versions: Versions
) -> None:
    old, new = two_versions
    paths = ModelPaths(root, models.MODEL)
    switching.switch_current(paths, old.version)
    pod = make_pod()
    assert version_of(pod.url) == old.version
    switching.switch_current(paths, new.version)
    pod.wait_for(lambda: version_of(pod.url) == new.version, "the new current served")


def test_a_pod_starting_before_any_model_is_not_ready_then_converges(
    make_pod: MakePod, root: Path
) -> None:
    pod = make_pod(ready=False)
    ready = httpx.get(f"{pod.url}/readyz")
    assert ready.status_code == 503, f"expected 503 before a model exists, saw {ready}"
    predict = httpx.post(f"{pod.url}/predict", json={"input": "x"})
    assert predict.status_code == 503 and predict.json()["error"] == "not_ready"
    published = models.publish_text(root)
    models.write_routing(root, published, generation=1)
    pod.wait_ready()
    assert version_of(pod.url) == published.version
