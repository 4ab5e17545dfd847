"""Operator scale: many Canaries, each with simulated pods, every version changed at once.

On the local control plane (`hotswap.local.environments`: the operator as its RBAC identity, as
in the demo), for each size (by default a tenth first, then the whole: 10 Canaries and 100
ModelVersions, then 100 and 1,000; 3 pods per Canary):

1. one model trained for real; each Canary gets its own model (a Canary owns its model's
   routing.json), with versions/Canaries versions each published through the store (own folder,
   own MANIFEST.json and digest; the model files are hard links to the trained one's);
2. their ModelVersions created and all verified by the operator (it hashes every file);
3. the pods: ONE pod simulator process (`hotswap.local.simulators`) answering the admin
   protocol for every pod on 127.0.100.x, each registered as a Ready Pod;
4. the Canaries created at their first version and waited for until Ready on all their pods;
5. an idle window (`--idle` seconds): what the operator costs when nothing changes;
6. every Canary's spec.version patched to its second version at once; the time until every
   one is Ready on the new generation with convergedPods = totalPods = pods.

Figures over the change window: reconcile p50/p99 (the operator's own
hotswap_operator_reconcile_duration_seconds{kind="Canary"}, bucket-interpolated as PromQL's
histogram_quantile), reconciles, API requests per reconcile (the API server's
apiserver_request_total, diffed, minus this script's own requests), operator CPU seconds and
RSS (/proc of the operator process). Targets at 100 Canaries: all Ready within 60 s, reconcile
p99 < 1 s, operator RSS < 300 MB. Prints a table; writes bench/results/scale-<timestamp>.json.

    nice -n 10 .venv/bin/python bench/scale.py [--canaries 100] [--versions 1000] [--pods 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hotswap.local import environments, objects, registering, simulators
from hotswap.local.environments import Environment
from hotswap.store import manifests, publishing
from hotswap.training import resources, training

RESULTS = Path(__file__).resolve().parent / "results"
NAMESPACE = "hotswap-scale"
TARGET_SECONDS, TARGET_P99, TARGET_RSS_MB = 60.0, 1.0, 300.0
RECONCILE = "hotswap_operator_reconcile_duration_seconds"
PARALLEL = 4  # API writes in flight from this script (the client's connection pool size)
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Size:
    canaries: int
    pods: int  # per Canary
    versions: int  # ModelVersions in all

    @property
    def per_model(self) -> int:
        return self.versions // self.canaries

    def check(self) -> Size:
        if self.canaries < 1 or self.pods < 1 or self.per_model < 2:
            raise SystemExit(
                f"--canaries {self.canaries}, --pods {self.pods}, --versions {self.versions}: "
                "give at least 1 Canary, 1 pod and 2 versions per Canary (versions >= 2 x canaries)"
            )
        return self


# -- the objects -------------------------------------------------------------------------------


def model_names(size: Size) -> list[str]:
    return [f"scale-{index:03d}" for index in range(size.canaries)]


@dataclass(frozen=True)
class Template:
    """What every published version holds: `write(folder)` fills it; headline metrics."""

    write: Callable[[Path], None]
    metrics: dict[str, float]


def trained_template(workdir: Path) -> Template:
    """One model trained for real (outside the volume); versions hard-link its files."""
    result = training.train(workdir / "template", "template", seed=1)
    headline = {key: float(result.metrics[key]) for key in training.HEADLINE}
    return Template(linker(result.published.path), headline)


def linker(template: Path) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        for path in template.iterdir():
            if path.name != manifests.MANIFEST:
                os.link(path, folder / path.name)

    return write


def publish_all(
    env: Environment, size: Size, template: Template
) -> dict[str, list[dict[str, Any]]]:
    """ModelVersion bodies by model, oldest first; every version published on the volume."""
    found: dict[str, list[dict[str, Any]]] = {}
    for model in model_names(size):
        found[model] = [
            resources.build_model_version(
                publishing.publish_version(
                    env.paths.root, model, template.write, metrics=template.metrics
                ),
                metrics=template.metrics,
            )
            for _ in range(size.per_model)
        ]
    return found


def in_parallel(call: Callable[[Any], Any], items: Iterable[Any]) -> None:
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        list(pool.map(call, items))


def count_where(env: Environment, plural: str, check: Callable[[dict[str, Any]], bool]) -> int:
    return sum(1 for body in env.objects.list_objects(plural) if check(body))


def is_verified(body: dict[str, Any]) -> bool:
    return objects.condition(body, "Verified").get("status") == "True"


def register_versions(env: Environment, bodies: list[dict[str, Any]], *, timeout: float) -> float:
    """Create every ModelVersion; seconds until the operator verified them all."""
    started = time.monotonic()
    in_parallel(lambda body: env.objects.create("modelversions", body), bodies)
    objects.until(
        lambda: ((n := count_where(env, "modelversions", is_verified)) == len(bodies), n),
        timeout=timeout, what=f"{len(bodies)} ModelVersions Verified", every=1.0,
    )  # fmt: skip
    return time.monotonic() - started


def start_pods(
    env: Environment, size: Size, stack: contextlib.ExitStack
) -> simulators.SimulatorProcess:
    planned = simulators.plan_pods(model_names(size), per_model=size.pods)
    started = simulators.spawn_simulator(
        env.paths.root, planned, token=env.token, workdir=env.logs, poll_interval=2.0
    )
    stack.callback(started.stop)

    def register(pod: simulators.SimulatedPod) -> None:
        labels = registering.labels_for(pod.model)
        ports = {"admin": pod.port}
        registering.register_pod(env.kubelet, pod.name, ip=pod.host, ports=ports, labels=labels)

    in_parallel(register, started.pods)
    return started


# -- convergence -------------------------------------------------------------------------------


def is_converged(body: dict[str, Any], *, version: str, pods: int) -> bool:
    status = body.get("status") or {}
    ready = objects.condition(body, "Ready")
    return (
        ready.get("status") == "True"
        and ready.get("observedGeneration") == body["metadata"]["generation"]
        and status.get("stableVersion") == version
        and not status.get("canaryVersion")
        and status.get("convergedPods") == status.get("totalPods") == pods
    )


class Watcher:
    """Lists the Canaries every `every` seconds; when each first showed its target converged."""

    def __init__(self, env: Environment, targets: dict[str, str], *, pods: int) -> None:
        self.env, self.targets, self.pods = env, targets, pods
        self.done: dict[str, float] = {}
        self.lists = 0  # this script's own API requests, taken off the operator's

    def wait(self, started: float, *, timeout: float, every: float = 0.5) -> None:
        deadline = started + timeout
        while len(self.done) < len(self.targets) and time.monotonic() < deadline:
            self.lists += 1
            for body in self.env.objects.list_objects("canaries"):
                name = body["metadata"]["name"]
                target = self.targets.get(name)
                if (
                    name not in self.done
                    and target
                    and is_converged(body, version=target, pods=self.pods)
                ):
                    self.done[name] = time.monotonic() - started
            time.sleep(every)


def create_canaries(env: Environment, firsts: dict[str, str]) -> None:
    """One Canary per model, named after it, at its first version, selecting its pods."""

    def create(item: tuple[str, str]) -> None:
        model, version = item
        labels = registering.labels_for(model)
        body = objects.canary_manifest(model, model=model, version=version, labels=labels)
        env.objects.create("canaries", body)

    in_parallel(create, list(firsts.items()))


def change_all(env: Environment, targets: dict[str, str]) -> None:
    in_parallel(
        lambda item: env.objects.patch("canaries", item[0], {"spec": {"version": item[1]}}),
        list(targets.items()),
    )


# -- what the operator and the API server say --------------------------------------------------


def scrape_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def apiserver_text(env: Environment) -> str:
    api = env.objects.custom.api_client
    answer = api.call_api("GET", f"{api.configuration.host}/metrics")
    answer.read()
    return str(answer.data.decode())


def samples(text: str, metric: str) -> Iterable[tuple[dict[str, str], float]]:
    """(labels, value) of every sample of `metric` on a Prometheus text page."""
    for line in text.splitlines():
        if not line.startswith(metric + "{") and not line.startswith(metric + " "):
            continue
        head, value = line.rsplit(" ", 1)
        labels = {}
        if "{" in head:
            for pair in head[head.index("{") + 1 : head.rindex("}")].split('",'):
                name, _, raw = pair.partition("=")
                labels[name.strip(",")] = raw.strip('"')
        yield labels, float(value)


@dataclass(frozen=True)
class Snapshot:
    at: float
    buckets: dict[float, float]  # le -> cumulative count, Canary reconciles
    reconcile_sum: float
    requests: dict[str, float]  # "VERB resource" -> apiserver_request_total
    writes: dict[float, float]  # le -> cumulative count: the API server's PATCH and POST latency
    cpu_seconds: float
    rss_mb: float
    peak_rss_mb: float


def snapshot(env: Environment) -> Snapshot:
    assert env.operator is not None and env.operator.process is not None
    page = scrape_text(f"http://{env.operator.metrics_target}/metrics")
    canary = {"kind": "Canary"}
    buckets = {
        float(labels["le"]): value
        for labels, value in samples(page, f"{RECONCILE}_bucket")
        if labels.items() >= canary.items()
    }
    total = sum(v for labels, v in samples(page, f"{RECONCILE}_sum") if labels == canary)
    requests: dict[str, float] = {}
    text = apiserver_text(env)
    for labels, value in samples(text, "apiserver_request_total"):
        if labels.get("resource"):
            key = f"{labels['verb']} {labels['resource']}"
            requests[key] = requests.get(key, 0.0) + value
    writes: dict[float, float] = {}
    for labels, value in samples(text, "apiserver_request_duration_seconds_bucket"):
        if labels.get("verb") in ("PATCH", "POST"):
            le = float(labels["le"])
            writes[le] = writes.get(le, 0.0) + value
    cpu, rss, peak = process_usage(env.operator.process.pid)
    return Snapshot(time.monotonic(), buckets, total, requests, writes, cpu, rss, peak)


def process_usage(pid: int) -> tuple[float, float, float]:
    """(CPU seconds user+system, RSS MB, peak RSS MB) from /proc/<pid>."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    kb = {key: int(status[key].split()[0]) for key in ("VmRSS", "VmHWM")}
    return cpu, kb["VmRSS"] / 1024, kb["VmHWM"] / 1024


def quantile(q: float, before: dict[float, float], after: dict[float, float]) -> float | None:
    """PromQL histogram_quantile over the buckets' increase: linear within a bucket."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return None
    rank, lower, below = q * counts[-1], 0.0, 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= rank:
            if bound == float("inf"):
                return lower  # above the last finite bound: as PromQL, that bound
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-12)
        lower, below = bound, count
    return None


def window(before: Snapshot, after: Snapshot, *, own_requests: int) -> dict[str, Any]:
    """What the operator did between two snapshots."""
    reconciles = after.buckets.get(float("inf"), 0.0) - before.buckets.get(float("inf"), 0.0)
    seconds = after.at - before.at
    by_kind = {
        key: after.requests[key] - before.requests.get(key, 0.0)
        for key in after.requests
        if after.requests[key] > before.requests.get(key, 0.0)
    }
    operator_requests = sum(by_kind.values()) - own_requests
    per = reconciles or float("nan")
    return {
        "seconds": seconds,
        "reconciles": reconciles,
        "reconciles_per_s": reconciles / seconds,
        "reconcile_p50_s": quantile(0.5, before.buckets, after.buckets),
        "reconcile_p99_s": quantile(0.99, before.buckets, after.buckets),
        "reconcile_mean_s": (after.reconcile_sum - before.reconcile_sum) / per,
        "apiserver_write_p50_s": quantile(0.5, before.writes, after.writes),
        "apiserver_write_p99_s": quantile(0.99, before.writes, after.writes),
        "api_requests": operator_requests,
        "api_requests_per_s": operator_requests / seconds,
        "api_requests_per_reconcile": operator_requests / per,
        "api_requests_by_kind": dict(sorted(by_kind.items(), key=lambda kv: -kv[1])),
        "own_requests_subtracted": own_requests,
        "operator_cpu_s": after.cpu_seconds - before.cpu_seconds,
        "operator_cpu_share": (after.cpu_seconds - before.cpu_seconds) / seconds,
    }


# -- one run -----------------------------------------------------------------------------------


def run(
    workdir: Path,
    size: Size,
    *,
    idle: float,
    timeout: float,
    say: Any,
    operator_source: Path | None = None,
    operator_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A fresh local environment (control plane, operator) measured at `size`, then stopped."""
    with environments.started(workdir, model="scale", namespace=NAMESPACE, say=say) as env:
        if operator_source is not None or operator_env:
            restart_operator(env, source=operator_source, settings=operator_env or {})
        row = measure_size(env, size, trained_template(workdir), idle=idle, timeout=timeout)
        return row | {
            "operator_source": str(operator_source or "installed"),
            "operator_env": operator_env or {},
        }


def restart_operator(env: Environment, *, source: Path | None, settings: dict[str, str]) -> None:
    """Restart the operator with `settings` (HOTSWAP_* variables) and `source` first on
    PYTHONPATH: a changed copy of operator/hotswap_operator measured without touching the
    tree."""
    assert env.operator is not None
    env.operator.stop()
    path = {"PYTHONPATH": str(source.resolve())} if source is not None else {}
    env.operator.env = env.operator.env | settings | path
    env.operator.start()
    env.say(f"operator restarted from {source or 'the installed package'} with {settings}")


def measure_size(
    env: Environment, size: Size, template: Template, *, idle: float, timeout: float
) -> dict[str, Any]:
    """In `env` (its operator running, nothing in its namespace yet): the objects and pods of
    `size`, the Canaries Ready, an idle window, then every version changed at once. The pod
    simulator is stopped on return; the objects and Pods stay."""
    say = env.say
    with contextlib.ExitStack() as stack:
        bodies = publish_all(env, size, template)
        every = [body for listed in bodies.values() for body in listed]
        verified = register_versions(env, every, timeout=max(120.0, size.versions / 5))
        say(f"{len(every)} ModelVersions verified in {verified:.1f}s")
        start_pods(env, size, stack)
        say(f"pod simulator: {size.canaries * size.pods} pods registered")
        firsts = {model: listed[0]["metadata"]["name"] for model, listed in bodies.items()}
        initial = converge(env, size, firsts, timeout, act=lambda: create_canaries(env, firsts))
        say(f"{len(initial['done'])}/{size.canaries} Canaries Ready at their first version")
        quiet = measure(env, lambda: time.sleep(idle), own_requests=0)
        targets = {model: listed[1]["metadata"]["name"] for model, listed in bodies.items()}
        before = snapshot(env)
        changed = converge(env, size, targets, timeout, act=lambda: change_all(env, targets))
        after = snapshot(env)
        return {
            "size": asdict(size),
            "versions_verified_s": verified,
            "initial": summary(initial, size),
            "idle": quiet,
            "change": summary(changed, size)
            | window(before, after, own_requests=size.canaries + changed["lists"]),
            "operator_rss_mb": after.rss_mb,
            "operator_peak_rss_mb": after.peak_rss_mb,
            "operator_cpu_s_total": after.cpu_seconds,
        }


def converge(
    env: Environment,
    size: Size,
    targets: dict[str, str],
    timeout: float,
    *,
    act: Callable[[], None],
) -> dict[str, Any]:
    """`act`, then when each Canary shows its target converged (seconds from before `act`)."""
    watcher = Watcher(env, targets, pods=size.pods)
    started = time.monotonic()
    act()
    acted = time.monotonic() - started
    watcher.wait(started, timeout=timeout)
    return {"done": watcher.done, "lists": watcher.lists, "timeout_s": timeout, "acted_s": acted}


def measure(env: Environment, during: Callable[[], None], *, own_requests: int) -> dict[str, Any]:
    before = snapshot(env)
    during()
    return window(before, snapshot(env), own_requests=own_requests)


def summary(found: dict[str, Any], size: Size) -> dict[str, Any]:
    done: dict[str, float] = found["done"]
    seconds = sorted(done.values())
    return {
        "ready": len(done),
        "of": size.canaries,
        "all_ready_s": seconds[-1] if len(done) == size.canaries else None,
        "first_ready_s": seconds[0] if seconds else None,
        "median_ready_s": seconds[len(seconds) // 2] if seconds else None,
        "not_ready": sorted(set(model_names(size)) - set(done))[:20],
        "writes_s": found["acted_s"],  # this script's creates or patches, all of them
    }


# -- report ------------------------------------------------------------------------------------


def verdict(full: dict[str, Any]) -> dict[str, Any]:
    change = full["change"]
    checks = {
        f"all Ready within {TARGET_SECONDS:.0f}s": change["all_ready_s"] is not None
        and change["all_ready_s"] <= TARGET_SECONDS,
        f"reconcile p99 < {TARGET_P99}s": change["reconcile_p99_s"] is not None
        and change["reconcile_p99_s"] < TARGET_P99,
        f"operator RSS < {TARGET_RSS_MB:.0f} MB": full["operator_peak_rss_mb"] < TARGET_RSS_MB,
    }
    return {"met": all(checks.values()), "checks": checks, "canaries": full["size"]["canaries"]}


COLUMNS = ("canaries", "pods", "MVs", "verify s", "ready", "all Ready s", "p50 s", "p99 s",
           "write p50/p99 s", "reconciles", "API/rec", "idle rec/s", "idle API/s", "CPU s",
           "RSS MB")  # fmt: skip


def cells(row: dict[str, Any]) -> list[str]:
    size, change, idle = row["size"], row["change"], row["idle"]

    def num(value: float | None, spec: str = ".2f") -> str:
        return "-" if value is None else format(value, spec)

    return [
        str(size["canaries"]), str(size["canaries"] * size["pods"]), str(size["versions"]),
        num(row["versions_verified_s"], ".1f"), f"{change['ready']}/{change['of']}",
        num(change["all_ready_s"]), num(change["reconcile_p50_s"], ".3f"),
        num(change["reconcile_p99_s"], ".3f"),
        f"{num(change['apiserver_write_p50_s'], '.3f')}/{num(change['apiserver_write_p99_s'])}",
        num(change["reconciles"], ".0f"),
        num(change["api_requests_per_reconcile"]), num(idle["reconciles_per_s"], ".1f"),
        num(idle["api_requests_per_s"], ".1f"), num(change["operator_cpu_s"], ".1f"),
        f"{row['operator_rss_mb']:.0f} (peak {row['operator_peak_rss_mb']:.0f})",
    ]  # fmt: skip


def print_table(rows: list[dict[str, Any]]) -> None:
    table = [list(COLUMNS), *(cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    for line in table:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))


def print_legend(met: dict[str, Any] | None) -> None:
    print("change window: every Canary's spec.version patched at once, until all Ready (or the")
    print("timeout); p50/p99 from the operator's reconcile histogram; API/rec: apiserver requests")
    print("(minus this script's) per Canary reconcile; write p50/p99: the API server's own PATCH")
    print("and POST latency (everyone's); idle: the window before, nothing changing")
    if met is not None:
        said = "MET" if met["met"] else "NOT MET"
        print(f"targets at {met['canaries']} Canaries: {said} {met['checks']}")


def write(rows: list[dict[str, Any]], met: dict[str, Any] | None, results: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"scale-{stamp}.json"
    body = {
        "benchmark": "scale",
        "when": stamp,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average": os.getloadavg()},
        "targets": {"all_ready_s": TARGET_SECONDS, "reconcile_p99_s": TARGET_P99,
                    "operator_rss_mb": TARGET_RSS_MB, **(met or {})},
        "runs": rows,
    }  # fmt: skip
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


def sizes(args: argparse.Namespace) -> list[Size]:
    whole = Size(args.canaries, args.pods, args.versions).check()
    if not args.tenth or args.canaries < 10:
        return [whole]
    return [Size(args.canaries // 10, args.pods, args.versions // 10).check(), whole]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--canaries", type=int, default=100)
    parser.add_argument("--pods", type=int, default=3, help="simulated pods per Canary")
    parser.add_argument("--versions", type=int, default=1000, help="ModelVersions in all")
    parser.add_argument("--no-tenth", dest="tenth", action="store_false",
                        help="skip the run at a tenth of the size first")  # fmt: skip
    parser.add_argument("--idle", type=float, default=10.0, help="idle window seconds")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for Ready")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--workdir", type=Path, help="keep the volume, logs and cluster here")
    parser.add_argument(
        "--operator-source", type=Path, help="a folder with a changed hotswap_operator to measure"
    )
    parser.add_argument(
        "--operator-env", action="append", default=[], metavar="NAME=VALUE",
        help="a HOTSWAP_* setting for the operator, e.g. HOTSWAP_OPERATOR_RECONCILE_THREADS=4",
    )  # fmt: skip
    args = parser.parse_args(argv)
    settings = dict(item.split("=", 1) for item in args.operator_env)
    rows = []
    for size in sizes(args):
        print(f"== {size.canaries} Canaries x {size.pods} pods, {size.versions} ModelVersions")
        with tempfile.TemporaryDirectory(prefix="hotswap-bench-scale-") as scratch:
            where = Path(args.workdir or scratch) / f"c{size.canaries}"
            rows.append(run(where, size, idle=args.idle, timeout=args.timeout, say=print,
                            operator_source=args.operator_source,
                            operator_env=settings))  # fmt: skip
        print_table(rows[-1:])
    met = verdict(rows[-1]) if rows[-1]["size"]["canaries"] >= 100 else None
    if len(rows) > 1:
        print_table(rows)
    print_legend(met)
    print(f"written: {write(rows, met, args.results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
