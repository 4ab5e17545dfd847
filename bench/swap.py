"""Swap benchmark: latency while versions swap under load, against steady windows.

Three phases, each swap windows and as many steady windows under the same load, interleaved
(wrk, one thread per replica, pinned to core 1; the replicas, real `hotswap serve` processes
on 127.0.0.10+, pinned to core 0):
  alone    one replica, core 0 to itself (as a pod with its own CPU on a cluster); reloads as
           in `pods`: the stall a reload causes in its own pod, which the stall target judges.
  pods     N replicas alone; a swap window POSTs a new routing (the stable alternating
           between two versions, each a fresh load) to every replica's /admin/reload at a
           fixed rate: the pods' own cost of a reload. The N replicas share core 0 and reload
           at once, so each one's loop also waits for the others' reloads: its stall is
           printed, not judged.
  canary   the local control plane (kube-apiserver, etcd, the operator) and N replicas as
           pods; a swap window changes the Canary's spec.version at a fixed rate (Immediate)
           and times each switch to every pod confirmed (bench/switch.py's watch): the
           whole path.
The swaps are split over `--rounds` swap windows; each has a steady window as long beside it,
swap first in even rounds and steady first in odd ones (A B B A ...), so a drift of the shared
machine falls on both kinds alike. Every window ticks at the same rate and reads the pods'
stall gauge 0.1 s after each tick; a swap window swaps at its ticks, a steady one does not:
the kinds differ by the swaps alone. wrk's latency histograms are pooled per kind; p50/p99/max
come from the pooled histograms, and each round's swap/steady p99 ratio is printed beside them
(the spread says how far one round can be trusted). Inside the pods: the event-loop lag probe
(`hotswap_inference_loop_lag_seconds{during}`, p99 from its buckets) and
`hotswap_inference_reload_loop_lag_max_seconds`, the longest stall of each reload: `wall`, and
`threads`, the part the pod's own threads ran meanwhile (without the time the machine did not
run the pod). Targets (issue 13): swap p99 <= 1.5x steady (every phase); the longest loop
stall during a reload < 5 ms (`alone`); at N = 10 the switch p50 <= 0.2 s and p99 <= 0.5 s.
The load average and the core speed are printed: on shared cores, compare the kinds of one
run, not runs.
Prints a table; writes bench/results/swap-<timestamp>.json.

    .venv/bin/python bench/swap.py [--replicas 3] [--canary-replicas 10] [--swaps 20]
        [--rounds 4] [--rate 1] [--connections 4] [--pause-ms 2]
        [--phases alone,pods,canary]
        [--workdir DIR] [--results DIR]
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
from collections import Counter
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
  local pairs = {}
  for i = 1, #latency do
    local us, count = latency(i)
    pairs[#pairs + 1] = us .. ":" .. count
  end
  io.write("HISTOGRAM " .. table.concat(pairs, ",") .. "\\n")
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
        "histogram": read_histogram(out),
    }


def read_histogram(out: str) -> Counter[int]:
    """The `HISTOGRAM us:count,...` line of the script's `done`: every latency wrk recorded."""
    line = next((x for x in out.splitlines() if x.startswith("HISTOGRAM ")), "HISTOGRAM ")
    found: Counter[int] = Counter()
    for pair in filter(None, line.removeprefix("HISTOGRAM ").split(",")):
        us, count = pair.split(":")
        found[int(us)] += int(count)
    return found


def quantile_us(histogram: Counter[int], q: float) -> int:
    """The smallest recorded latency with at least `q` of the requests at or below it."""
    total, seen = sum(histogram.values()), 0
    for us in sorted(histogram):
        seen += histogram[us]
        if seen >= q * total:
            return us
    return 0


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


def lag_delta(before: dict[float, float], after: dict[float, float]) -> Counter[float]:
    """The lags observed between two scrapes, by bucket bound (cumulative)."""
    return Counter({bound: after[bound] - before.get(bound, 0.0) for bound in after})


def lag_summary(delta: Counter[float]) -> dict[str, Any]:
    """Count, p99 and the largest bucket bound hit of cumulative bucket counts."""
    bounds = sorted(delta)
    counts = [delta[b] for b in bounds]
    total = counts[-1] if counts else 0.0
    if not total:
        return {"observed": 0, "p99_le_s": None, "max_le_s": None, "over_5ms": 0}
    p99 = next(b for b, c in zip(bounds, counts, strict=True) if c >= 0.99 * total)
    worst = next(b for b, c in zip(bounds, counts, strict=True) if c >= total)
    over = total - delta.get(TARGET_STALL_S, total)
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


Tick = Callable[[int], dict[str, Any]]  # the i-th swap of a phase: what it measured


def run_window(
    pods: list[replicas.Replica],
    command: list[str],
    *,
    seconds: float,
    ticks_of: Iterator[int],
    swap: Tick | None,
) -> dict[str, Any]:
    """wrk for `seconds` (after 0.5 s to connect); at each tick, `swap` (none in a steady
    window), then the pods' stall gauge read 0.1 s later. wrk's figures and histogram, the
    pods' loop-lag buckets over the window, and what each swap measured."""
    lag_before = {d: lag_buckets(pods, d) for d in ("steady", "reload")}
    load = start_wrk(command)
    time.sleep(0.5)  # wrk connected
    ends_at = time.monotonic() + seconds
    swaps = []
    for index in ticks_of:
        measured = swap(index) if swap else {}
        time.sleep(0.1)  # the heap freeze ends the reload's window
        swaps.append(measured | {"stall": reload_max(pods)})
    time.sleep(max(0.0, ends_at - time.monotonic()))
    result = stop_wrk(load)
    lags = {d: lag_delta(lag_before[d], lag_buckets(pods, d)) for d in lag_before}
    return result | {"lag": lags, "swaps": swaps if swap else []}


def paired_windows(
    pods: list[replicas.Replica], command: list[str], swap: Tick, args: Any
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """`args.rounds` swap windows and as many steady ones, interleaved A B B A ...: the two
    kinds pooled, and each round's figures."""
    per_window = max(1, args.swaps // args.rounds)
    seconds = per_window / args.rate
    numbers = iter(range(per_window * args.rounds))
    windows: dict[str, list[dict[str, Any]]] = {"steady": [], "swap": []}
    for round_ in range(args.rounds):
        order = ("swap", "steady") if round_ % 2 == 0 else ("steady", "swap")
        for kind in order:
            count = ticks(args.rate, count=per_window)
            indices = (next(numbers) for _ in count) if kind == "swap" else count
            windows[kind].append(run_window(
                pods, command, seconds=seconds, ticks_of=indices,
                swap=swap if kind == "swap" else None,
            ))  # fmt: skip
    rounds = [round_figures(s, w) for s, w in zip(windows["steady"], windows["swap"], strict=True)]
    return pooled(windows["steady"], "steady"), pooled(windows["swap"], "reload"), rounds


def pooled(windows: list[dict[str, Any]], during: str) -> dict[str, Any]:
    """One kind's windows as one: requests, failed, latency from the merged histograms, the
    loop lag `during` steady or reload, and every swap's measurements."""
    histogram: Counter[int] = sum((w["histogram"] for w in windows), Counter())
    seconds = sum(w["seconds"] for w in windows)
    requests = sum(w["requests"] for w in windows)
    swaps = [swap for w in windows for swap in w["swaps"]]
    return {
        "windows": len(windows),
        "requests": requests,
        "failed": sum(w["failed"] for w in windows),
        "seconds": seconds,
        "rps": requests / seconds,
        **latency_ms(histogram),
        "loop_lag": lag_summary(sum((w["lag"][during] for w in windows), Counter())),
        "swaps": len(swaps),
        **swap_figures(swaps),
    }


def latency_ms(histogram: Counter[int]) -> dict[str, float]:
    return {
        "p50_ms": quantile_us(histogram, 0.50) / 1e3,
        "p99_ms": quantile_us(histogram, 0.99) / 1e3,
        "max_ms": max(histogram, default=0) / 1e3,
    }


def round_figures(steady: dict[str, Any], swapping: dict[str, Any]) -> dict[str, Any]:
    """One round: each kind's latency and requests, and the swap/steady p99 ratio."""
    kinds = {k: latency_ms(w["histogram"]) | {"requests": w["requests"], "failed": w["failed"]}
             for k, w in (("steady", steady), ("swap", swapping))}  # fmt: skip
    return kinds | {"p99_ratio": kinds["swap"]["p99_ms"] / kinds["steady"]["p99_ms"]}


def swap_figures(swaps: list[dict[str, Any]]) -> dict[str, Any]:
    """The swaps' durations (a reload to every pod, or a switch confirmed on every pod) and
    the longest stall of a reload, by part."""
    found: dict[str, Any] = {
        "stall_max_s": max((s["stall"]["wall"] for s in swaps), default=0.0),
        "stall_threads_max_s": max((s["stall"]["threads"] for s in swaps), default=0.0),
    }
    for key in ("reload_s", "switch_s"):
        values = [s[key] for s in swaps if key in s]
        if values:
            found[key] = summary(values)
            found[f"raw_{key}"] = values
    return found


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


def admin_swap(pods: list[replicas.Replica], arms: tuple[Arm, Arm]) -> Tick:
    """The i-th swap: a routing to every pod at once, its stable the other version (a fresh
    load each time)."""

    def swap(index: int) -> dict[str, Any]:
        routing = Routing(stable=arms[(index + 1) % 2], generation=1000 + index)
        return {"reload_s": reload_all(pods, routing)}

    return swap


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {"p50": statistics.median(values), "p99": switch.percentile(values, 99),
            "max": max(values)}  # fmt: skip


def bodies(root: Path, version: str) -> list[str]:
    """`/predict` bodies of the version's stored sample texts."""
    samples = loading.load_version(root, MODEL, version).samples
    return [json.dumps({"input": text}) for text in samples]


def phase_alone(workdir: Path, args: Any) -> dict[str, Any]:
    """One replica with core 0 to itself; reloads through its admin endpoint."""
    return phase_pods(workdir, args, count=1, name="alone")


def phase_pods(
    workdir: Path, args: Any, *, count: int | None = None, name: str = "pods"
) -> dict[str, Any]:
    """`count` (`--replicas`) replicas alone; reloads through their admin endpoint."""
    count = args.replicas if count is None else count
    root = workdir / "models"
    workdir.mkdir(parents=True, exist_ok=True)
    first, second = (training.train(root, MODEL, seed=s).published for s in (1, 2))
    arms = (Arm(first.version, first.digest), Arm(second.version, second.digest))
    routes.write_routing(ModelPaths(root, MODEL), Routing(stable=arms[0], generation=1))
    pods = [replicas.spawn_replica(root, MODEL, name=f"pod-{i}", token=TOKEN, log_dir=workdir,
                                   host=f"127.0.0.{10 + i}", poll_interval=3600)
            for i in range(count)]  # fmt: skip
    try:
        for pod in pods:
            replicas.wait_ready(pod)
        pin(pods)
        targets = [p.target for p in pods]
        command = wrk_command(targets, bodies(root, first.version), args, workdir=workdir)
        run_window(pods, command, seconds=2.0, ticks_of=iter(()), swap=None)  # warm-up
        steady, swapping, rounds = paired_windows(pods, command, admin_swap(pods, arms), args)
        print_pair(name, count, steady, swapping, rounds)
        return {"replicas": count, "steady": steady, "swap": swapping, "rounds": rounds}
    finally:
        for pod in pods:
            replicas.stop_replica(pod)


def canary_swap(env: Any, pair: tuple[Any, Any]) -> Tick:
    """The i-th swap: spec.version to the other version, timed until every pod confirmed it."""

    def swap(index: int) -> dict[str, Any]:
        seconds, _ = switch.switch(env, pair[(index + 1) % 2], pods=len(env.pods))
        return {"switch_s": seconds}

    return swap


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
        swap = canary_swap(env, pair)
        steady, swapping, rounds = paired_windows(env.pods, command, swap, args)
    print_pair("canary", args.canary_replicas, steady, swapping, rounds)
    return {"replicas": args.canary_replicas, "steady": steady, "swap": swapping, "rounds": rounds}


def quiet(line: str) -> None:
    if "control plane up" in line or "building" in line:
        print(f"  {line}", flush=True)


def print_pair(
    phase: str, count: int, steady: dict[str, Any], swapping: dict[str, Any], rounds: list[Any]
) -> None:
    for name, window in (("steady", steady), ("swap", swapping)):
        lag = window["loop_lag"]
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
        f"{swapping['stall_max_s'] * 1e3:.1f} ms, of it the pod's own threads at least "
        f"{swapping['stall_threads_max_s'] * 1e3:.1f} ms",
        flush=True,
    )
    ratios = " ".join(f"{r['p99_ratio']:.2f}" for r in rounds)
    print(f"  {phase:6s} N={count:<2} p99 swap/steady by round: {ratios}", flush=True)


def fmt_le(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:g} ms"


def verdicts(figures: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for phase, figure in figures.items():
        steady, swapping = figure["steady"], figure["swap"]
        ratio = swapping["p99_ms"] / steady["p99_ms"]
        met = ratio <= TARGET_P99_RATIO
        found[f"{phase}: swap p99 / steady p99 <= {TARGET_P99_RATIO}"] = (ratio, met)
        failed = steady["failed"] + swapping["failed"]
        found[f"{phase}: no failed requests"] = (failed, failed == 0)
    alone = figures.get("alone")
    if alone:
        stall = alone["swap"]["stall_max_s"]
        name = "alone: longest loop stall in a reload < 5 ms (one pod, its own core)"
        found[name] = (stall, stall < TARGET_STALL_S)
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
    parser.add_argument("--rounds", type=int, default=4, help="swap/steady window pairs (4)")
    parser.add_argument("--rate", type=float, default=1.0, help="swaps per second at most (1)")
    parser.add_argument("--connections", type=int, default=4, help="per replica (default 4)")
    parser.add_argument("--pause-ms", type=int, default=2, help="per connection between requests")
    parser.add_argument("--phases", default="alone,pods,canary")
    parser.add_argument("--workdir", type=Path, help="keep the volumes and logs here")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        print(f"bench/swap.py needs {missing}: `make system-deps` (Debian: apt-get install wrk)")
        return 2
    load = {"before": os.getloadavg(), "core_speed_ms": fastpath.core_speed_ms()}
    print(
        f"swap bench: {args.swaps} swaps in {args.rounds} windows at {args.rate:g}/s at most, "
        f"{args.connections} "
        f"connections per replica, {args.pause_ms} ms pause; load average {load['before'][0]:.2f}; "
        f"core speed {load['core_speed_ms']:.1f} ms (sum(range(10**6)))"
    )
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hotswap-bench-swap-") as scratch:
        workdir = Path(args.workdir or scratch)
        phases = {"alone": phase_alone, "pods": phase_pods, "canary": phase_canary}
        for phase in args.phases.split(","):
            figures[phase] = phases[phase](workdir / phase, args)
    load["after"] = os.getloadavg()
    found = verdicts(figures)
    for name, (value, met) in found.items():
        print(f"  [{'ok' if met else 'MISSED'}] {name}: {value}")
    print(f"load average {load['before'][0]:.2f} before, {load['after'][0]:.2f} after")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"swap-{stamp}.json"
    settings = vars(args) | {"workdir": None, "results": None}
    body = {"benchmark": "swap", "when": stamp, "settings": settings,
            "load_average": load, "figures": figures,
            "targets": {k: {"value": v, "met": m} for k, (v, m) in found.items()}}  # fmt: skip
    path.write_text(json.dumps(body, indent=2, default=str) + "\n")
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
