"""Switch latency: from a Canary's `spec.version` change to every replica confirmed.

On the local control plane (`hotswap.local.environments`: the operator as its RBAC identity,
replicas on 127.0.0.10+ registered as pods), for N = 1, 3, 10 replicas: 20 switches each,
alternating two versions (Immediate; after the first, each is an instant rollback to a
version that served before). A switch is confirmed when a watch on the Canary delivers
`Ready=True` for the new generation with stable = the new version and convergedPods =
totalPods = N. Beside it: the time the operator took to declare it (routing.json carries the
new stable), and the model load time (`load_version`, and load + predictor + warm-up as a pod
does it) on the same version.

Target: p50 <= 0.5 s and p99 <= 1 s at N = 10. Prints a table; writes
bench/results/switch-<timestamp>.json.

    .venv/bin/python bench/switch.py [--switches 20] [--replicas 1,3,10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from hotswap_inference import preparing
from kubernetes import watch

from hotswap import resources
from hotswap.local import environments, objects, releasing, watching
from hotswap.local.environments import Environment
from hotswap.store import loading, routes
from hotswap.store.routes import Arm

RESULTS = Path(__file__).resolve().parent / "results"
MODEL = CANARY = "intent"
NAMESPACE = "hotswap-bench"
TARGET_P50, TARGET_P99, TARGET_N = 0.5, 1.0, 10
LOADS = 20


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (p99 of 20 values is the largest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(values),
        "p99": percentile(values, 99),
        "min": min(values),
        "max": max(values),
    }


def measure_loads(env: Environment, version: str) -> dict[str, dict[str, float]]:
    """`load_version` alone, and as a pod prepares a version (load, predictor, warm-up)."""
    digest = loading.load_version(env.paths.root, MODEL, version).digest
    arm = Arm(version, digest)
    bare, prepared = [], []
    for _ in range(LOADS):
        started = time.perf_counter()
        loading.load_version(env.paths.root, MODEL, version, expected_digest=digest)
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        preparing.prepare_version(env.paths.root, MODEL, arm)
        prepared.append(time.perf_counter() - started)
    return {"load_version": summary(bare), "load_and_warm": summary(prepared)}


class RoutingProbe:
    """When routing.json first declares a stable version (polled every millisecond)."""

    def __init__(self, env: Environment) -> None:
        self.env, self.stop = env, threading.Event()
        self.seen_at: dict[tuple[int, str], float] = {}  # (generation, stable) -> time
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.001):
            found = routes.read_routing(self.env.paths)
            if found is not None:
                key = (found.generation, found.stable.version)
                self.seen_at.setdefault(key, time.perf_counter())

    def first(self, version: str, after: float) -> float | None:
        times = [t for (_, v), t in self.seen_at.items() if v == version and t >= after]
        return min(times) if times else None


def confirmed(body: dict[str, Any], *, name: str, generation: int, pods: int) -> bool:
    status = body.get("status") or {}
    ready = objects.condition(body, "Ready")
    return (
        ready.get("status") == "True"
        and ready.get("observedGeneration") == generation
        and status.get("stableVersion") == name
        and not status.get("canaryVersion")
        and status.get("convergedPods") == status.get("totalPods") == pods
    )


def switch(env: Environment, target: releasing.Release, *, pods: int) -> tuple[float, float]:
    """Seconds from the spec.version patch to a watch event showing it confirmed, and to the
    first one showing the new stable (the operator's status write after signalling the pods)."""
    stream = watch.Watch()  # type: ignore[no-untyped-call]
    started = time.perf_counter()
    patched = env.objects.patch("canaries", CANARY, {"spec": {"version": target.name}})
    generation = int(patched["metadata"]["generation"])
    events = watching.events(
        stream,
        env.objects.custom.list_namespaced_custom_object,
        resources.GROUP, resources.VERSION, env.objects.namespace, resources.CANARIES,
        field_selector=f"metadata.name={CANARY}",
        resource_version=patched["metadata"]["resourceVersion"], timeout_seconds=60,
    )  # fmt: skip
    switched = None
    for event in events:
        body = event["object"]
        if switched is None and (body.get("status") or {}).get("stableVersion") == target.name:
            switched = time.perf_counter() - started
        if confirmed(body, name=target.name, generation=generation, pods=pods):
            seconds = time.perf_counter() - started
            stream.stop()  # type: ignore[no-untyped-call]
            return seconds, switched or seconds
    raise TimeoutError(f"switch to {target.name} on {pods} pods not confirmed within 60s")


def wait_converged(env: Environment, name: str) -> None:
    def there(body: dict[str, Any]) -> bool:
        generation = int(body["metadata"]["generation"])
        return confirmed(body, name=name, generation=generation, pods=len(env.pods))

    what = f"{name} Ready on {len(env.pods)} pods"
    objects.until(
        lambda: (there(b := env.objects.get("canaries", CANARY)), b), timeout=120, what=what
    )


def run_series(
    env: Environment,
    probe: RoutingProbe,
    pair: tuple[releasing.Release, releasing.Release],
    *,
    switches: int,
) -> dict[str, Any]:
    """`switches` switches between the pair, starting from pair[0] serving."""
    pods = len(env.pods)
    confirm, switched, declare = [], [], []
    before = scrape_all(env)
    for index in range(switches):
        target = pair[(index + 1) % 2]
        started = time.perf_counter()
        seconds, first = switch(env, target, pods=pods)
        confirm.append(seconds)
        switched.append(first)
        seen = probe.first(target.version, started)
        if seen is not None:
            declare.append(seen - started)
        time.sleep(0.2)  # the operator's follow-up writes settle between two switches
    after = scrape_all(env)
    if switches % 2:
        switch(env, pair[0], pods=pods)  # the next series starts from pair[0] too
    line = summary(confirm)
    print(f"  N={pods:>2}: confirmed p50 {line['p50']:.3f}s p99 {line['p99']:.3f}s", flush=True)
    return {
        "confirmed_s": line,
        "declared_s": summary(declare),  # routing.json carries the new stable
        "stable_in_status_s": summary(switched),  # status write after the pods were signalled
        "mean_s": {name: mean_of(before[name], after[name]) for name in before},
        "raw_confirmed_s": confirm,
    }


def scrape(host: str, port: int, metric: str) -> tuple[float, float]:
    """(sum, count) of a histogram on a /metrics page, over all its label sets."""
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = {"sum": 0.0, "count": 0.0}
    for line in text.splitlines():
        for part in found:
            if line.startswith(f"{metric}_{part}"):
                found[part] += float(line.rsplit(" ", 1)[1])
    return found["sum"], found["count"]


def scrape_all(env: Environment) -> dict[str, tuple[float, float]]:
    """Histograms summed: pods' reload durations, the operator's Canary reconcile durations."""
    reloads = [scrape(p.host, p.metrics_port, "hotswap_inference_reload_duration_seconds")
               for p in env.pods]  # fmt: skip
    assert env.operator is not None
    host, port = env.operator.metrics_target.split(":")
    reconcile = scrape(host, int(port), "hotswap_operator_reconcile_duration_seconds")
    total = (sum(s for s, _ in reloads), sum(c for _, c in reloads))
    return {"pod_reload": total, "operator_reconcile": reconcile}


def mean_of(before: tuple[float, float], after: tuple[float, float]) -> dict[str, float]:
    count = after[1] - before[1]
    return {"mean": (after[0] - before[0]) / count if count else 0.0, "count": count}


def run(workdir: Path, *, counts: list[int], switches: int) -> dict[str, Any]:
    with environments.started(workdir, model=MODEL, namespace=NAMESPACE, say=print) as env:
        pair = (
            releasing.train_and_register(env, seed=1),
            releasing.train_and_register(env, seed=2),
        )
        loads = measure_loads(env, pair[0].version)
        first = pair[0].name
        body = objects.canary_manifest(CANARY, model=MODEL, version=first, labels=env.labels)
        env.objects.create("canaries", body)
        probe = RoutingProbe(env)
        probe.thread.start()
        series = {}
        for count in counts:
            env.add_replicas(count - len(env.pods))
            wait_converged(env, pair[0].name)
            series[str(count)] = run_series(env, probe, pair, switches=switches)
        probe.stop.set()
    return {"model_load_s": loads, "switch": series}


def verdict(figures: dict[str, Any]) -> dict[str, Any]:
    at = figures["switch"].get(str(TARGET_N))
    if at is None:
        return {"met": None, "why": f"N = {TARGET_N} was not measured"}
    p50, p99 = at["confirmed_s"]["p50"], at["confirmed_s"]["p99"]
    return {"met": p50 <= TARGET_P50 and p99 <= TARGET_P99, "p50": p50, "p99": p99}


COLUMNS = ("replicas", "switch p50", "p99", "declared p50", "status p50", "pod reload",
           "reconcile", "load_version p50", "load+warm p50")  # fmt: skip


def row_cells(count: str, row: dict[str, Any], load: dict[str, Any]) -> list[str]:
    means = row["mean_s"]
    seconds = [
        row["confirmed_s"]["p50"], row["confirmed_s"]["p99"], row["declared_s"]["p50"],
        row["stable_in_status_s"]["p50"], means["pod_reload"]["mean"],
        means["operator_reconcile"]["mean"], load["load_version"]["p50"],
        load["load_and_warm"]["p50"],
    ]  # fmt: skip
    return [count, *(f"{value:.4f}s" for value in seconds)]


def print_table(figures: dict[str, Any], met: dict[str, Any]) -> None:
    rows = [list(COLUMNS)]
    rows += [row_cells(n, row, figures["model_load_s"]) for n, row in figures["switch"].items()]
    for cells in rows:
        print("  ".join(f"{cell:>{len(head)}}" for cell, head in zip(cells, COLUMNS, strict=True)))
    print("declared: routing.json written; status: the status write after the pods were signalled;")
    print("pod reload, reconcile: means of the pods' and the operator's duration histograms")
    target = f"p50 <= {TARGET_P50}s and p99 <= {TARGET_P99}s at N = {TARGET_N}"
    said = {True: "MET", False: "NOT MET", None: "NOT MEASURED"}[met["met"]]
    print(f"target {target}: {said} ({met})")


def write(figures: dict[str, Any], met: dict[str, Any], args: argparse.Namespace) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"switch-{stamp}.json"
    body = {
        "benchmark": "switch",
        "when": stamp,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average": os.getloadavg()},
        "switches_per_series": args.switches,
        "target": {"n": TARGET_N, "p50_s": TARGET_P50, "p99_s": TARGET_P99, **met},
        **figures,
    }  # fmt: skip
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=20, help="switches per N (default 20)")
    parser.add_argument("--replicas", default="1,3,10", help="the Ns, ascending (default 1,3,10)")
    parser.add_argument("--workdir", type=Path, help="keep the volume and logs here")
    args = parser.parse_args(argv)
    counts = sorted(int(n) for n in args.replicas.split(","))
    with tempfile.TemporaryDirectory(prefix="hotswap-bench-switch-") as scratch:
        figures = run(Path(args.workdir or scratch), counts=counts, switches=args.switches)
    met = verdict(figures)
    print_table(figures, met)
    print(f"written: {write(figures, met, args)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
