"""actuate makes a routing true on the volume and returns what it wrote: a new routing numbered
past every generation seen, `current` switched, and nothing written when both already hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hotswap_operator import actuating
from hotswap_operator.metrics import Metrics
from hotswap_operator.runtimes import Config, Context
from prometheus_client import CollectorRegistry

from hotswap.store import routes, switching
from hotswap.store.layout import ModelPaths
from hotswap.store.routes import Arm, Routing

MODEL = "intent"
V1, V2 = "20261128_100000_aaaaaaaa", "20261128_110000_bbbbbbbb"
STABLE, CANARY = Arm(V1, "sha256:" + "a" * 64), Arm(V2, "sha256:" + "b" * 64)


def context(root: Path) -> Context:
    apis: Any = None  # no pod to signal: no API call either
    metrics = Metrics(CollectorRegistry())
    return Context(apis, Config(model_root=root), metrics, "hotswap", MODEL)


def published(root: Path) -> ModelPaths:
    paths = ModelPaths(root, MODEL)
    for version in (V1, V2):
        paths.version(version).mkdir(parents=True)
    return paths


def test_a_new_routing_is_written_numbered_past_the_status_and_current_follows(
    tmp_path: Path,
) -> None:
    paths = published(tmp_path)
    desired = Routing(stable=STABLE, canary=CANARY, weight=20)
    done = actuating.actuate(
        context(tmp_path), model=MODEL, desired=desired, found=None, replies=[], generation=6
    )
    assert done.wrote_routing and done.switched_current and done.acted
    assert done.routing.generation == 7, f"expected generation 7 (status saw 6), saw {done}"
    assert routes.read_routing(paths) == done.routing, "what it returns is what it wrote"
    assert switching.read_current(paths) == V1


def test_the_same_routing_found_again_writes_nothing(tmp_path: Path) -> None:
    paths = published(tmp_path)
    ctx = context(tmp_path)
    desired = Routing(stable=STABLE, canary=CANARY, weight=20)
    first = actuating.actuate(
        ctx, model=MODEL, desired=desired, found=None, replies=[], generation=0
    )
    again = actuating.actuate(
        ctx, model=MODEL, desired=desired, found=first.routing, replies=[], generation=1
    )
    assert not again.acted, f"expected nothing written the second time, saw {again}"
    assert again.routing == first.routing == routes.read_routing(paths)


def test_a_moved_stable_is_written_with_the_next_generation(tmp_path: Path) -> None:
    paths = published(tmp_path)
    ctx = context(tmp_path)
    first = actuating.actuate(
        ctx, model=MODEL, desired=Routing(stable=STABLE), found=None, replies=[], generation=0
    )
    promoted = actuating.actuate(
        ctx,
        model=MODEL,
        desired=Routing(stable=CANARY),
        found=first.routing,
        replies=[],
        generation=1,
    )
    assert promoted.wrote_routing and promoted.switched_current
    assert promoted.routing.generation == first.routing.generation + 1
    assert switching.read_current(paths) == V2
