"""The data-plane loop without a cluster: the demo plays the operator's part as `hotswap local`
does (`declaring`).

Train v1, serve two replicas on loopback, send live traffic throughout, train v2, canary 20%
sticky, promote, roll back, print requests per version and arm, stop everything.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hotswap.local import declaring, replicas, traffic
from hotswap.local.progress import Progress
from hotswap.store import routes
from hotswap.store.layout import ModelPaths
from hotswap.training import training

MODEL = "intent"
PHASE_SECONDS = 3.0
CONVERGE_SECONDS = 30.0


@dataclass(frozen=True)
class Step:
    """One change of the routing, made as `hotswap local` makes it (`declaring`)."""

    title: str
    change: Callable[[ModelPaths], declaring.Change]

    def describe(self, routing: routes.Routing) -> str:
        if routing.canary:
            return (
                f"{self.title}: stable {routing.stable.version}, "
                f"canary {routing.canary.version} at {routing.weight}%"
            )
        return f"{self.title}: stable {routing.stable.version}"


def run(workdir: Path | None = None, count: int = 2) -> int:
    with tempfile.TemporaryDirectory(prefix="hotswap-demo-") as scratch:
        return _run(Path(workdir or scratch), count, Progress())


def _run(root: Path, count: int, progress: Progress) -> int:
    paths = ModelPaths(root / "models", MODEL)
    v1 = train(paths, progress, seed=1)
    declaring.deploy(paths, v1)
    (root / "logs").mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    pods: list[replicas.Replica] = []
    try:
        for i in range(count):
            pods.append(replicas.spawn_replica(
                paths.root, MODEL, name=f"replica-{i}", token=token, log_dir=root / "logs"
            ))  # fmt: skip
        for pod in pods:
            replicas.wait_ready(pod)
            progress.say(f"{pod.name} serving {v1} on {pod.host}:{pod.port}")
        return _loop(paths, pods, progress, v1)
    finally:
        for pod in pods:
            replicas.stop_replica(pod)
        progress.say(f"stopped {len(pods)} replicas; logs were in {root / 'logs'}")


def _loop(paths: ModelPaths, pods: list[replicas.Replica], progress: Progress, v1: str) -> int:
    load = traffic.Load(tuple(p.target for p in pods), requests=200_000, seconds=120, threads=2)
    with traffic.LiveTraffic(load) as live:
        progress.say(f"live traffic on {len(pods)} replicas")
        progress.observe(live, f"stable {v1}", PHASE_SECONDS)
        v2 = train(paths, progress, seed=2)
        for step in (
            Step("canary (sticky)", lambda paths: declaring.start_canary(paths, v2, weight=20)),
            Step("promote", declaring.promote),
            Step("roll back", declaring.rollback),
        ):
            routing = converge(paths, pods, progress, step)
            progress.observe(live, step.describe(routing), PHASE_SECONDS)
    total = live.snapshot()
    progress.table(f"all traffic: {total.total} requests, {total.failed} failed", total.answers)
    for reason, count in total.failures.most_common(5):
        progress.say(f"  failed {count}x: {reason}")
    return 1 if total.failed else 0


def train(paths: ModelPaths, progress: Progress, *, seed: int, label_noise: float = 0.0) -> str:
    result = training.train(paths.root, paths.model, seed=seed, label_noise=label_noise)
    published = result.published
    accuracy = float(result.metrics.get("accuracy", 0.0))
    progress.say(f"trained {published.version} ({published.digest[:15]}…) accuracy {accuracy:.3f}")
    return str(published.version)


def converge(
    paths: ModelPaths, pods: list[replicas.Replica], progress: Progress, step: Step
) -> routes.Routing:
    """Make the step's change, then wait until every replica's poll serves it."""
    routing = step.change(paths).after
    started = time.monotonic()
    pending = list(pods)
    while pending and time.monotonic() - started < CONVERGE_SECONDS:
        pending = [p for p in pending if p.admin_status().get("generation") != routing.generation]
        time.sleep(0.05)
    if pending:
        raise RuntimeError(f"{[p.name for p in pending]} did not converge in {CONVERGE_SECONDS}s")
    seconds = time.monotonic() - started
    progress.say(
        f"{step.describe(routing)}: all {len(pods)} replicas serve it after {seconds:.2f}s"
    )
    return routing
