"""The stale-generation guard cannot be poisoned: a huge generation is refused, and a
routing.json re-created with a lower generation is followed when it is POSTed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from hotswap_inference.errors import StaleGeneration
from hotswap_inference.metrics import Metrics
from hotswap_inference.reloading import Reloader
from prometheus_client import CollectorRegistry

from hotswap.store import publishing, routes

from . import models
from .conftest import MakePod

Versions = tuple[publishing.Published, publishing.Published]
MAX_INT64 = 2**63 - 1


def reloader(root: Path) -> Reloader:
    return Reloader(root, models.MODEL, metrics=Metrics(CollectorRegistry()))


def routing(stable: publishing.Published, generation: int) -> routes.Routing:
    return routes.Routing(stable=models.arm(stable), generation=generation)


def test_a_generation_beyond_int64_is_refused_and_normal_reloads_go_on(
    make_pod: MakePod, root: Path, two_versions: Versions
) -> None:
    old, new = two_versions
    models.write_routing(root, old, generation=1)
    pod = make_pod()
    body = models.reload_body(routing(new, 2)) | {"generation": 10**30}
    huge = pod.admin("POST", "/admin/reload", json=body)
    assert huge.status_code == 400, f"expected 400, saw {huge.status_code} {huge.text}"
    assert huge.json()["error"] == "invalid_routing" and "generation" in huge.text, huge.text
    assert "__init__" not in huge.text, huge.text

    normal = pod.admin("POST", "/admin/reload", json=models.reload_body(routing(new, 2)))
    assert normal.status_code == 200, f"a normal reload after it: {normal.status_code}"
    served = httpx.post(f"{pod.url}/predict", json={"input": "refund"})
    assert served.headers["X-Model-Version"] == new.version


def test_a_recreated_routing_json_with_a_lower_generation_is_followed_when_posted(
    root: Path, two_versions: Versions
) -> None:
    """Poisoned at 2^63-1 (a valid generation); routing.json deleted and written again by the
    operator at 5: its POST of exactly that routing applies, a POST of anything else is stale."""
    old, new = two_versions
    pod = reloader(root)
    pod.apply(routing(old, MAX_INT64))

    declared = models.write_routing(root, new, generation=5)
    with pytest.raises(StaleGeneration):
        pod.apply(routing(old, 4))  # not what routing.json declares: refused as before
    assert pod.apply(declared) == "applied"
    assert pod.state is not None and pod.state.generation == 5
    assert pod.state.serving("stable").version == new.version
    assert pod.apply(routing(new, 6)) == "applied", "the operator's next step is accepted"


def test_an_out_of_order_post_is_still_stale(root: Path, two_versions: Versions) -> None:
    """The guard's purpose stays: routing.json at 3, POSTs of 3 then a late 2 (which routing.json
    no longer declares) -> the late one is refused and 3 keeps serving."""
    old, new = two_versions
    pod = reloader(root)
    models.write_routing(root, old, generation=2)
    late = routing(old, 2)
    latest = models.write_routing(root, new, generation=3)
    assert pod.apply(latest) == "applied"
    with pytest.raises(StaleGeneration):
        pod.apply(late)
    assert pod.state is not None and pod.state.serving("stable").version == new.version
