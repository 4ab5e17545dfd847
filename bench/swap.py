"""Swap benchmark: latency while versions swap under load, against a steady window.

Two phases, each a swap window then a steady window as long under the same load
(wrk, one thread per replica, pinned to core 1; the replicas, real `hotswap serve` processes
on 127.0.0.10+, pinned to core 0):
  pods     N replicas alone; the swap window POSTs a new routing (the stable alternating
           between two versions, each a fresh load) to every replica's /admin/reload at a
           fixed rate: the pods' own cost of a reload.
  canary   the local control plane (kube-apiserver, etcd, the operator) and N replicas as
           pods; the swap window changes the Canary's spec.version at a fixed rate (Immediate)
           and times each switch to every pod confirmed (bench/switch.py's watch): the
           whole path.
Per window: requests, failed (socket errors + non-2xx), p50/p99/max; inside the pods, the
event-loop lag probe (`hotswap_inference_loop_lag_seconds{during}`, p99 from its buckets, and
`hotswap_inference_reload_loop_lag_max_seconds`, the longest stall of each reload, read before
the next one: `wall`, and `threads`, the part the pod's own threads ran meanwhile, i.e. without
the time the machine did not run the pod). Targets (issue 13): swap-window p99 <= 1.5x steady;
the longest loop stall during a reload < 5 ms; at N = 10 the switch p50 <= 0.2 s and p99 <=
0.5 s. The load average is printed: on shared cores, compare the windows of one run, not runs.
Prints a table; writes bench/results/swap-<timestamp>.json.

    .venv/bin/python bench/swap.py [--replicas 3] [--canary-replicas 10] [--swaps 20]
        [--rate 1] [--connections 4] [--pause-ms 2] [--phases pods,canary]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fastpath  # bench/fastpath.py: wrk's result line
import switch  # bench/switch.py: the Canary switch and its confirmation
from prometheus_client.parser import text_string_to_metric_families

from hotswap.local import environments, objects, releasing, replicas
from hotswap.store import loading, routes
from hotswap.store.layout import ModelPaths
from hotswap.store.routes import Arm, Routing
from hotswap.training import training

RESULTS = Path(__file__).resolve().parent / "results"
Swaps = Callable[[], dict[str, Any]] | None
WRK_BOUND_SECONDS = 600  # wrk's -d: windows end by SIGINT long before
MODEL = "intent"
TOKEN = "bench-swap-token"
LAG = "hotswap_inference_loop_lag_seconds"
RELOAD_MAX = "hotswap_inference_reload_loop_lag_max_seconds"
TARGET_P99_RATIO, TARGET_STALL_S, TARGET_SWITCH = 1.5, 0.005, {"p50": 0.2, "p99": 0.5}
WRK_SCRIPT = """
local targets = %s
local bodies = %s
local pause = %d
local made = 0
function setup(thread)
  made = made + 1
  local t = targets[(made - 1) %% #targets + 1]
  thread.addr = wrk.lookup(t[1], t[2])[1]
end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, "/predict", nil, bodies[i])
end
delay = function() return pause end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %%d, "duration_us": %%d, "errors": %%d, ' ..
    '"non_2xx": %%d, "p50_us": %%d, "p99_us": %%d, "max_us": %%d}\\n', summary.requests,
    summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def wrk_command(
    targets: list[tuple[str, int]], bodies: list[str], args: Any, *, workdir: Path
) -> list[str]:
    """One wrk process, one thread per replica (its connections to that replica alone); its
    script in `workdir` (removed with it)."""
    table = "{" + ", ".join(f'{{"{h}", "{p}"}}' for h, p in targets) + "}"
    quoted = "{" + ", ".join(json.dumps(body) for body in bodies) + "}"
    script = workdir / "wrk.lua"
    script.write_text(WRK_SCRIPT % (table, quoted, args.pause_ms))
    host, port = targets[0]
    threads, connections = len(targets), len(targets) * args.connections
    return ["taskset", "-c", "1", "wrk", f"-t{threads}", f"-c{connections}",
            f"-d{WRK_BOUND_SECONDS}s", "--timeout", "5s", "-s", str(script),
            f"http://{host}:{port}/predict"]  # fmt: skip


def start_wrk(command: list[str]) -> subprocess.Popen[str]:
    """wrk until `stop_wrk` (its -d is a bound only)."""
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop_wrk(load: subprocess.Popen[str]) -> dict[str, Any]:
    """SIGINT: wrk stops, prints its figures (the script's `done`) and exits."""
    load.send_signal(signal.SIGINT)
    out, err = load.communicate(timeout=60)
    raw = fastpath.read_result(out, err)
    return {
        "requests": raw["requests"],
        "failed": raw["errors"] + raw["non_2xx"],
        "seconds": raw["duration_us"] / 1e6,
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1e3,
        "p99_ms": raw["p99_us"] / 1e3,
        "max_ms": raw["max_us"] / 1e3,
    }


def scrape(pod: replicas.Replica) -> dict[str, list[tuple[dict[str, str], float]]]:
    url = f"http://{pod.host}:{pod.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def lag_buckets(pods: list[replicas.Replica], during: str) -> dict[float, float]:
    """Cumulative loop-lag bucket counts of `during`, summed over the pods."""
    summed: dict[float, float] = {}
    for pod in pods:
        for labels, value in scrape(pod).get(f"{LAG}_bucket", []):
            if labels.get("during") == during:
                bound = float(labels["le"])
                summed[bound] = summed.get(bound, 0.0) + value
    return summed


def lag_window(before: dict[float, float], after: dict[float, float]) -> dict[str, Any]:
    """The lags observed between two scrapes: count, p99 and the largest bucket bound hit."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1] if counts else 0.0
    if not total:
        return {"observed": 0, "p99_le_s": None, "max_le_s": None, "over_5ms": 0}
    p99 = next(b for b, c in zip(bounds, counts, strict=True) if c >= 0.99 * total)
    worst = next(b for b, c in zip(bounds, counts, strict=True) if c >= total)
    over = total - dict(zip(bounds, counts, strict=True)).get(TARGET_STALL_S, total)
    return {"observed": int(total), "p99_le_s": p99, "max_le_s": worst, "over_5ms": int(over)}


def reload_max(pods: list[replicas.Replica]) -> dict[str, float]:
    """The longest loop stall of each pod's last reload, the worst of the pods, by part:
    `wall` (all of it), `threads` (what the pod's own threads ran meanwhile: not the machine)."""
    found = {"wall": 0.0, "threads": 0.0}
    for pod in pods:
        for labels, value in scrape(pod).get(RELOAD_MAX, []):
            found[labels["part"]] = max(found[labels["part"]], value)
    return found


def pin(pods: list[replicas.Replica], core: str = "0") -> None:
    """Every thread of every replica on `core` (wrk runs on the other)."""
    for pod in pods:
        subprocess.run(["taskset", "-a", "-p", "-c", core, str(pod.process.pid)],
                       check=True, capture_output=True)  # fmt: skip


def measure_window(
    pods: list[replicas.Replica], command: list[str], *, seconds: float, swaps: Swaps = None
) -> dict[str, Any]:
    """Load for `seconds`, or while `swaps` runs when given; wrk's figures and the pods' loop
    lag over the window, and what `swaps` returned."""
    lag_before = {d: lag_buckets(pods, d) for d in ("steady", "reload")}
    load = start_wrk(command)
    time.sleep(0.5)  # wrk connected
    extra = swaps() if swaps else time.sleep(seconds)
    result = stop_wrk(load)
    result["loop_lag"] = {d: lag_window(lag_before[d], lag_buckets(pods, d)) for d in lag_before}
    return result | (extra or {})


def compare_windows(
    pods: list[replicas.Replica], command: list[str], swaps: Callable[[], dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The swap window, then a steady window as long, under the same load."""
    swapping = measure_window(pods, command, seconds=0, swaps=swaps)
    steady = measure_window(pods, command, seconds=swapping["seconds"])
    return steady, swapping


def ticks(rate: float, *, count: int) -> Iterator[int]:
    """`count` indices at `rate` per second at most (a late one is not made up for)."""
    every, next_at = 1.0 / rate, time.monotonic()
    for index in range(count):
        time.sleep(max(0.0, next_at - time.monotonic()))
        yield index
        next_at = max(next_at + every, time.monotonic())


def post_reload(pod: replicas.Replica, routing: Routing) -> float:
    body = json.dumps({"model": MODEL, **routing.to_dict()}).encode()
    request = urllib.request.Request(
        f"http://{pod.host}:{pod.admin_port}/admin/reload", data=body, method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )  # fmt: skip
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        if json.loads(response.read())["outcome"] != "applied":
            raise RuntimeError(f"{pod.name} did not apply generation {routing.generation}")
    return time.perf_counter() - started


def reload_all(pods: list[replicas.Replica], routing: Routing) -> float:
    """POST `routing` to every pod at once; the seconds until the last one answered."""
    done: list[float] = []
    posts = [threading.Thread(target=lambda p=p: done.append(post_reload(p, routing)))
             for p in pods]  # fmt: skip
    for post in posts:
        post.start()
    for post in posts:
        post.join()
    if len(done) != len(pods):
        raise RuntimeError(f"{len(pods) - len(done)} pod(s) did not apply {routing.generation}")
    return max(done)


def admin_swaps(pods: list[replicas.Replica], arms: tuple[Arm, Arm], args: Any) -> Any:
    """`args.swaps` reloads at `args.rate` per second, each to every pod at once, each a fresh
    load of a version."""
    durations: list[float] = []
    stalls: list[dict[str, float]] = []
    for index in ticks(args.rate, count=args.swaps):
        routing = Routing(stable=arms[(index + 1) % 2], generation=1000 + index)
        durations.append(reload_all(pods, routing))
        time.sleep(0.1)  # the heap freeze ends the reload's window
        stalls.append(reload_max(pods))
    return {"swaps": len(durations), "reload_s": summary(durations), **worst_stalls(stalls)}


def worst_stalls(stalls: list[dict[str, float]]) -> dict[str, float]:
    return {
        "stall_max_s": max((s["wall"] for s in stalls), default=0.0),
        "stall_threads_max_s": max((s["threads"] for s in stalls), default=0.0),
    }


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {"p50": statistics.median(values), "p99": switch.percentile(values, 99),
            "max": max(values)}  # fmt: skip


def bodies(root: Path, version: str) -> list[str]:
    """`/predict` bodies of the version's stored sample texts."""
    samples = loading.load_version(root, MODEL, version).samples
    return [json.dumps({"input": text}) for text in samples]


def phase_pods(workdir: Path, args: Any) -> dict[str, Any]:
    """N replicas alone; reloads through their admin endpoint."""
    root = workdir / "models"
    workdir.mkdir(parents=True, exist_ok=True)
    first, second = (training.train(root, MODEL, seed=s).published for s in (1, 2))
    arms = (Arm(first.version, first.digest), Arm(second.version, second.digest))
    routes.write_routing(ModelPaths(root, MODEL), Routing(stable=arms[0], generation=1))
    pods = [replicas.spawn_replica(root, MODEL, name=f"pod-{i}", token=TOKEN, log_dir=workdir,
                                   host=f"127.0.0.{10 + i}", poll_interval=3600)
            for i in range(args.replicas)]  # fmt: skip
    try:
        for pod in pods:
            replicas.wait_ready(pod)
        pin(pods)
        targets = [p.target for p in pods]
        command = wrk_command(targets, bodies(root, first.version), args, workdir=workdir)
        warm = measure_window(pods, command, seconds=2.0)
        steady, swapping = compare_windows(pods, command, lambda: admin_swaps(pods, arms, args))
        print_pair("pods", args.replicas, steady, swapping)
        return {"replicas": args.replicas, "warmup": warm, "steady": steady, "swap": swapping}
    finally:
        for pod in pods:
            replicas.stop_replica(pod)


def canary_swaps(env: Any, pair: tuple[Any, Any], args: Any) -> Any:
    """`args.swaps` spec.version changes at `args.rate` per second at most (each waits for its
    switch to be confirmed on every pod); the confirmation times."""
    confirm: list[float] = []
    stalls: list[dict[str, float]] = []
    for index in ticks(args.rate, count=args.swaps):
        seconds, _ = switch.switch(env, pair[(index + 1) % 2], pods=len(env.pods))
        confirm.append(seconds)
        time.sleep(0.1)
        stalls.append(reload_max(env.pods))
    if len(confirm) % 2:
        switch.switch(env, pair[0], pods=len(env.pods))  # pair[0] serves again
    return {"swaps": len(confirm), "switch_s": summary(confirm), **worst_stalls(stalls),
            "raw_switch_s": confirm}  # fmt: skip


def phase_canary(workdir: Path, args: Any) -> dict[str, Any]:
    """The local control plane, the operator and N replicas as pods; Canary changes."""
    with environments.started(workdir, model=MODEL, namespace="hotswap-swap", say=quiet) as env:
        pair = (releasing.train_and_register(env, seed=1),
                releasing.train_and_register(env, seed=2))  # fmt: skip
        body = objects.canary_manifest(MODEL, model=MODEL, version=pair[0].name, labels=env.labels)
        env.objects.create("canaries", body)
        env.add_replicas(args.canary_replicas)
        switch.wait_converged(env, pair[0].name)
        pin(env.pods)
        targets = [p.target for p in env.pods]
        command = wrk_command(
            targets, bodies(env.paths.root, pair[0].version), args, workdir=workdir
        )
        steady, swapping = compare_windows(env.pods, command, lambda: canary_swaps(env, pair, args))
    print_pair("canary", args.canary_replicas, steady, swapping)
    return {"replicas": args.canary_replicas, "steady": steady, "swap": swapping}


def quiet(line: str) -> None:
    if "control plane up" in line or "building" in line:
        print(f"  {line}", flush=True)


def print_pair(phase: str, count: int, steady: dict[str, Any], swapping: dict[str, Any]) -> None:
    for name, window in (("steady", steady), ("swap", swapping)):
        lag = window["loop_lag"]["reload" if name == "swap" else "steady"]
        print(
            f"  {phase:6s} N={count:<2} {name:6s} {window['rps']:7.0f} req/s  "
            f"p50 {window['p50_ms']:6.2f}  p99 {window['p99_ms']:6.2f}  "
            f"max {window['max_ms']:7.2f} ms  failed {window['failed']}  "
            f"loop lag p99 <= {fmt_le(lag['p99_le_s'])}, {lag['over_5ms']} over 5 ms",
            flush=True,
        )
    timing = swapping.get("switch_s") or swapping.get("reload_s")
    print(
        f"  {phase:6s} N={count:<2} {swapping['swaps']} swaps, each p50 {timing['p50']:.3f}s "
        f"p99 {timing['p99']:.3f}s; longest loop stall in a reload "
        f"{swapping['stall_max_s'] * 1e3:.1f} ms, of it the pod's own threads "
        f"{swapping['stall_threads_max_s'] * 1e3:.1f} ms",
        flush=True,
    )


def fmt_le(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:g} ms"


def verdicts(figures: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for phase in ("pods", "canary"):
        if phase not in figures:
            continue
        steady, swapping = figures[phase]["steady"], figures[phase]["swap"]
        ratio = swapping["p99_ms"] / steady["p99_ms"]
        found[f"{phase}: swap p99 / steady p99 <= {TARGET_P99_RATIO}"] = (ratio, ratio <= 1.5)
        stall = swapping["stall_max_s"]
        found[f"{phase}: longest loop stall in a reload < 5 ms"] = (stall, stall < TARGET_STALL_S)
        held = swapping["stall_threads_max_s"]
        found[f"{phase}: ... of which the pod's own threads < 5 ms"] = (held, held < TARGET_STALL_S)
        found[f"{phase}: no failed requests"] = (
            steady["failed"] + swapping["failed"],
            steady["failed"] + swapping["failed"] == 0,
        )
    canary = figures.get("canary")
    if canary and canary["replicas"] == 10:
        timing = canary["swap"]["switch_s"]
        met = all(timing[q] <= bound for q, bound in TARGET_SWITCH.items())
        found["canary: N = 10 switch p50 <= 0.2 s, p99 <= 0.5 s"] = (timing, met)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=3, help="pods phase (default 3)")
    parser.add_argument("--canary-replicas", type=int, default=10, help="canary phase (10)")
    parser.add_argument("--swaps", type=int, default=20, help="per phase (default 20)")
    parser.add_argument("--rate", type=float, default=1.0, help="swaps per second at most (1)")
    parser.add_argument("--connections", type=int, default=4, help="per replica (default 4)")
    parser.add_argument("--pause-ms", type=int, default=2, help="per connection between requests")
    parser.add_argument("--phases", default="pods,canary")
    parser.add_argument("--workdir", type=Path, help="keep the volumes and logs here")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        print(f"bench/swap.py needs {missing}: `make system-deps` (Debian: apt-get install wrk)")
        return 2
    load = {"before": os.getloadavg()}
    print(
        f"swap bench: {args.swaps} swaps at {args.rate:g}/s at most, {args.connections} "
        f"connections per replica, {args.pause_ms} ms pause; load average {load['before'][0]:.2f}"
    )
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hotswap-bench-swap-") as scratch:
        workdir = Path(args.workdir or scratch)
        phases = {"pods": phase_pods, "canary": phase_canary}
        for phase in args.phases.split(","):
            figures[phase] = phases[phase](workdir / phase, args)
    load["after"] = os.getloadavg()
    found = verdicts(figures)
    for name, (value, met) in found.items():
        print(f"  [{'ok' if met else 'MISSED'}] {name}: {value}")
    print(f"load average {load['before'][0]:.2f} before, {load['after'][0]:.2f} after")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"swap-{stamp}.json"
    body = {"benchmark": "swap", "when": stamp, "settings": vars(args) | {"workdir": None},
            "load_average": load, "figures": figures,
            "targets": {k: {"value": v, "met": m} for k, (v, m) in found.items()}}  # fmt: skip
    path.write_text(json.dumps(body, indent=2, default=str) + "\n")
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
