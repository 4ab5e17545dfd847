"""Given / When helpers of the e2e tests, built from the demo's own blocks (`hotswap.demo`).

A fleet is inference replicas on loopback serving a model from a temporary volume; the tests
play the operator's part through the store, as `hotswap demo` does.
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

from hotswap.demo import dataplane, processes, traffic
from hotswap.demo.progress import Progress
from hotswap.store.layout import ModelPaths


@dataclass
class Fleet:
    paths: ModelPaths
    pods: list[processes.Replica]
    stable: str
    canary: str | None = None
    generation: int = 1
    progress: Progress = field(default_factory=Progress)

    def loads(self, *, requests: int, seconds: float) -> list[traffic.Load]:
        return [traffic.Load(p.host, p.port, requests, seconds, threads=2) for p in self.pods]


@contextlib.contextmanager
def serving(workdir: Path, *, replicas: int) -> Iterator[Fleet]:
    """Train v1, declare it, start `replicas` replicas and wait until they serve; stop them."""
    progress = Progress()
    paths = ModelPaths(workdir / "models", dataplane.MODEL)
    stable = dataplane.train(paths, progress, seed=1)
    dataplane.declare(paths, dataplane.Step(stable=stable, generation=1))
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    pods: list[processes.Replica] = []
    try:
        for i in range(replicas):
            name = f"replica-{i}"
            pod = processes.spawn_replica(
                paths.root, dataplane.MODEL, name=name, token=token, log_dir=logs
            )
            pods.append(pod)
        for pod in pods:
            processes.wait_ready(pod)
        yield Fleet(paths, pods, stable, progress=progress)
    finally:
        for pod in pods:
            processes.stop_replica(pod)


def send_traffic(fleet: Fleet, *, requests: int, seconds: float = 30.0) -> traffic.Tally:
    """Bounded load on every replica, one after the other; the tally of all answers."""
    tally = traffic.Tally()
    for load in fleet.loads(requests=requests, seconds=seconds):
        traffic.send_traffic(load, tally)
    return tally


def set_canary(fleet: Fleet, *, weight: int) -> str:
    """Train a new version and route `weight` percent to it; wait until every replica serves it."""
    canary = dataplane.train(fleet.paths, fleet.progress, seed=2)
    fleet.generation += 1
    step = dataplane.Step(fleet.stable, fleet.generation, canary, weight, title="canary")
    dataplane.converge(fleet.paths, fleet.pods, fleet.progress, step)
    fleet.canary = canary
    return canary


def promote(fleet: Fleet) -> str:
    """The canary becomes stable on every replica."""
    assert fleet.canary, "promote needs a canary: call set_canary first"
    fleet.generation += 1
    step = dataplane.Step(fleet.canary, fleet.generation, title="promote")
    dataplane.converge(fleet.paths, fleet.pods, fleet.progress, step)
    fleet.stable, fleet.canary = fleet.canary, None
    return fleet.stable


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def status_of(pod: processes.Replica) -> dict[str, Any]:
    """The replica's own numbers: GET /status on its serving port."""
    body: dict[str, Any] = get_json(f"http://{pod.host}:{pod.port}/status")
    return body


def requests_of(status: dict[str, Any], version: str, arm: str) -> int:
    rows = [r for r in status["traffic"] if (r["version"], r["arm"]) == (version, arm)]
    return int(rows[0]["requests"]) if rows else 0
