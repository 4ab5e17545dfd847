"""Given / When helpers of the e2e tests, built from the local environment (`hotswap.local`).

A fleet is inference replicas on loopback serving a model from a temporary volume; the tests
play the operator's part through the store, as `hotswap demo --no-cluster` does.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotswap.local import dataplane, declaring, replicas, tallies, traffic
from hotswap.local.progress import Progress
from hotswap.store.layout import ModelPaths


@dataclass
class Fleet:
    paths: ModelPaths
    pods: list[replicas.Replica]
    stable: str
    canary: str | None = None
    generation: int = 1
    progress: Progress = field(default_factory=Progress)

    def load(self, *, requests: int, seconds: float) -> traffic.Load:
        """Round-robin over every replica, two client threads."""
        return traffic.Load(tuple(p.target for p in self.pods), requests, seconds, threads=2)


@contextlib.contextmanager
def serving(workdir: Path, *, count: int) -> Iterator[Fleet]:
    """Train v1, declare it, start `count` replicas and wait until they serve; stop them."""
    progress = Progress()
    paths = ModelPaths(workdir / "models", dataplane.MODEL)
    stable = dataplane.train(paths, progress, seed=1)
    declaring.deploy(paths, stable)
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    pods: list[replicas.Replica] = []
    try:
        for i in range(count):
            name = f"replica-{i}"
            pod = replicas.spawn_replica(
                paths.root, dataplane.MODEL, name=name, token=token, log_dir=logs
            )
            pods.append(pod)
        for pod in pods:
            replicas.wait_ready(pod)
        yield Fleet(paths, pods, stable, progress=progress)
    finally:
        for pod in pods:
            replicas.stop_replica(pod)


def send_traffic(fleet: Fleet, *, requests: int, seconds: float = 30.0) -> tallies.Tally:
    """Bounded load round-robin over every replica; the tally of all answers."""
    return traffic.send_traffic(fleet.load(requests=requests, seconds=seconds))


def set_canary(fleet: Fleet, *, weight: int) -> str:
    """Train a new version and route `weight` percent to it; wait until every replica serves it."""
    canary = dataplane.train(fleet.paths, fleet.progress, seed=2)
    step = dataplane.Step("canary", lambda p: declaring.start_canary(p, canary, weight=weight))
    fleet.generation = dataplane.converge(fleet.paths, fleet.pods, fleet.progress, step).generation
    fleet.canary = canary
    return canary


def promote(fleet: Fleet) -> str:
    """The canary becomes stable on every replica."""
    assert fleet.canary, "promote needs a canary: call set_canary first"
    step = dataplane.Step("promote", declaring.promote)
    fleet.generation = dataplane.converge(fleet.paths, fleet.pods, fleet.progress, step).generation
    fleet.stable, fleet.canary = fleet.canary, None
    return fleet.stable


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def status_of(pod: replicas.Replica) -> dict[str, Any]:
    """The replica's own numbers: GET /status on its serving port."""
    body: dict[str, Any] = get_json(f"http://{pod.host}:{pod.port}/status")
    return body


def requests_of(status: dict[str, Any], version: str, arm: str) -> int:
    rows = [r for r in status["traffic"] if (r["version"], r["arm"]) == (version, arm)]
    return int(rows[0]["requests"]) if rows else 0
