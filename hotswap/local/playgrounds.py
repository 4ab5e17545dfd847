"""A playground that stays up: `hotswap dev up` starts this module as a detached process
(`detaching`).

It holds a whole local environment (`environments.started`: control plane, namespace and RBAC,
the operator as its ServiceAccount, replicas registered as pods), trains v1 and deploys it with
a Canary, trains v2 as a ModelVersion to try, writes what a user needs into the workdir, then
waits. SIGTERM (`hotswap dev down`) unwinds it all in reverse order, as `hotswap demo` does.

```
<workdir>/
  supervisor.json   the detached process (pid, start time, command line), by `dev up`
  playground.json   what runs, once ready: kubeconfig, namespace, replicas, processes
  kubeconfig        the admin's, with the playground's namespace as the context's
  reload-token      the pods' admin token (0600)
  try/canary.yaml   a Canary aimed at v2 (kubectl apply -f)
  cluster/ models/ logs/
```
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from hotswap import resources
from hotswap.cluster import clusters, kubeconfigs, supervising
from hotswap.local import environments, objects, releasing
from hotswap.local.environments import Environment

MODEL = CANARY = "intent"
NAMESPACE = "hotswap-dev"
READY_SECONDS = 120.0
APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
TRY_STRATEGY: dict[str, Any] = {
    "type": "Steps",
    "steps": [
        {"name": "ten-percent", "setWeight": 10},
        {"name": "soak", "pause": {"durationSeconds": 30}},
        {"name": "half", "setWeight": 50},
        {"name": "approve", "pause": {}},
    ],
}


@dataclass(frozen=True)
class Replica:
    name: str
    host: str
    port: int
    admin_port: int
    metrics_port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class Playground:
    """What runs, as `playground.json` records it."""

    workdir: Path
    kubeconfig: Path
    namespace: str
    canary: str
    stable: str  # the ModelVersion that serves
    candidate: str  # the ModelVersion to try
    replicas: list[Replica]
    processes: list[clusters.Process]  # operator and replicas: stopped by `down` if orphaned

    @property
    def try_file(self) -> Path:
        return self.workdir / "try" / "canary.yaml"


def state_file(workdir: Path) -> Path:
    return workdir / "playground.json"


def supervisor_file(workdir: Path) -> Path:
    return workdir / "supervisor.json"


def save(playground: Playground) -> None:
    body = asdict(playground) | {"workdir": str(playground.workdir)}
    body["kubeconfig"] = str(playground.kubeconfig)
    write_json(state_file(playground.workdir), body)


def load(workdir: Path) -> Playground | None:
    try:
        body = json.loads(state_file(workdir).read_text())
    except FileNotFoundError:
        return None
    body |= {"workdir": Path(body["workdir"]), "kubeconfig": Path(body["kubeconfig"])}
    body["replicas"] = [Replica(**r) for r in body["replicas"]]
    body["processes"] = [clusters.Process(**p) for p in body["processes"]]
    return Playground(**body)


def write_json(path: Path, body: Any) -> None:
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(body, indent=2) + "\n")
    temp.replace(path)


def main(argv: list[str] | None = None) -> int:
    """The detached process: bring everything up, record it, wait for SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m hotswap.local.playgrounds")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--replicas", type=int, default=3)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, _: sys.exit(128 + signum))
    workdir = args.workdir.resolve()
    say = print_flushed
    with environments.started(workdir, model=MODEL, namespace=NAMESPACE, say=say) as env:
        env.add_replicas(args.replicas)
        save(prepare(env))
        say("playground ready; waiting for SIGTERM (`hotswap dev down`)")
        while True:
            time.sleep(3600)


def print_flushed(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)


def prepare(env: Environment) -> Playground:
    """v1 serving through a Canary, v2 registered to try, the files a user needs."""
    v1 = releasing.train_and_register(env, seed=1)
    body = objects.canary_manifest(CANARY, model=MODEL, version=v1.name, labels=env.labels)
    env.objects.create(resources.CANARIES, as_applied(body))
    objects.wait_for_condition(
        env.objects, resources.CANARIES, CANARY, "Ready", timeout=READY_SECONDS
    )
    env.say(f"Canary {CANARY} Ready: {v1.name} on every replica")
    v2 = releasing.train_and_register(env, seed=2)
    playground = Playground(
        workdir=env.workdir,
        kubeconfig=write_kubeconfig(env),
        namespace=NAMESPACE,
        canary=CANARY,
        stable=v1.name,
        candidate=v2.name,
        replicas=[Replica(p.name, p.host, p.port, p.admin_port, p.metrics_port) for p in env.pods],
        processes=children(env),
    )
    write_try_file(playground, labels=env.labels)
    token = env.workdir / "reload-token"
    token.touch(mode=0o600)
    token.write_text(env.token + "\n")
    return playground


def as_applied(body: dict[str, Any]) -> dict[str, Any]:
    """`body` as `kubectl apply` creates it, so a later `kubectl apply -f` merges cleanly."""
    applied = {APPLIED: json.dumps(body, separators=(",", ":"))}
    return body | {"metadata": body["metadata"] | {"annotations": applied}}


def write_kubeconfig(env: Environment) -> Path:
    """The admin's kubeconfig with the playground's namespace, so kubectl needs no -n."""
    config = json.loads(env.cluster.kubeconfig.read_text())
    for context in config["contexts"]:
        context["context"]["namespace"] = NAMESPACE
    return kubeconfigs.write(env.workdir / "kubeconfig", config)


def write_try_file(playground: Playground, *, labels: dict[str, str]) -> None:
    body = objects.canary_manifest(
        playground.canary, model=MODEL, version=playground.candidate, labels=labels,
        strategy=TRY_STRATEGY, stickyHeader="X-Request-Key",
    )  # fmt: skip
    playground.try_file.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# The Canary of the playground aimed at {playground.candidate} (trained, not serving):\n"
        "# 10% -> 30 s -> 50% -> waits for `hotswap promote intent` -> 100%.\n"
        "# manifests/samples/canary.yaml shows every field (analysis, offline gate).\n"
    )
    playground.try_file.write_text(header + yaml.safe_dump(body, sort_keys=False))


def children(env: Environment) -> list[clusters.Process]:
    """The operator and replica processes, recorded so `down` can stop them if orphaned."""
    found = [(p.name, p.process.pid, p.process.args) for p in env.pods]
    operator = env.operator.process if env.operator else None
    if operator is not None:
        found.append(("operator", operator.pid, operator.args))
    processes = []
    for name, pid, args in found:
        started = supervising.start_time(pid)
        if started is not None:
            argv = [str(a) for a in args]  # type: ignore[union-attr]
            processes.append(clusters.Process(name, pid, started, 0, argv))
    return processes


if __name__ == "__main__":
    sys.exit(main())
