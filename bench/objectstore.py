"""Switch time with the model volume beside object storage (docs/object-store.md).

Three real replicas each (`hotswap serve` processes on loopback): one fleet reads a volume, the
other a bucket on versitygw with a cache of its own per pod. Each switch declares a routing to a
version no pod has served yet (so every bucket pod has to download it, verify it and load it;
volume pods load it in place), then signals every pod as the operator does
(`signalling.reload_pods`), and times until every pod has answered that it serves it. The two
fleets alternate, switch by switch, so a noisy machine hits both alike.

    .venv/bin/python bench/objectstore.py [--switches 6] [--replicas 3]

Prints a table; writes bench/results/objectstore-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from hotswap.local import objectstores, replicas
from hotswap.store import backends, layout, remotes, signalling, versions
from hotswap.store.routes import Arm, Routing
from hotswap.training import training

RESULTS = Path(__file__).resolve().parent / "results"
MODEL = "intent"
TOKEN = "bench-objectstore-token"
STORE = "s3://models/bench"


@contextmanager
def fleet(work: Path, name: str, count: int, *, store: str | None) -> Iterator[list[Any]]:
    started = []
    try:
        for index in range(count):
            root = work / f"{name}-cache-{index}" if store else work / "volume"
            pod = replicas.spawn_replica(
                root, MODEL, name=f"{name}-{index}", token=TOKEN, log_dir=work,
                host=f"127.0.0.{60 + index + (20 if store else 0)}", poll_interval=30, store=store,
            )  # fmt: skip
            started.append(pod)
        for pod in started:
            replicas.wait_listening(pod)
        yield started
    finally:
        for pod in started:
            replicas.stop_replica(pod)


def switch(pods: list[Any], store: backends.Backend, routing: Routing) -> float:
    """Declare `routing`, signal every pod, seconds until all of them answered they serve it."""
    started = time.perf_counter()
    store.write_routing(MODEL, routing)
    addresses = [signalling.Address(p.host, p.admin_port) for p in pods]
    replies = signalling.reload_pods(addresses, routing, model=MODEL, token=TOKEN, timeout=120)
    elapsed = time.perf_counter() - started
    behind = [str(r.address) for r in replies if not r.reports(routing)]
    if behind:
        raise RuntimeError(f"pods {behind} did not take generation {routing.generation}")
    return elapsed


def publish(work: Path, bucket: Any, count: int) -> list[Arm]:
    """`count` versions on the volume, each also published to the bucket."""
    arms = []
    for seed in range(count):
        published = training.train(work / "volume", MODEL, seed=seed).published
        paths = layout.ModelPaths(work / "volume", MODEL)
        remotes.publish_folder(
            bucket, published.path, versions.get_version(paths, published.version)
        )
        arms.append(Arm(published.version, published.digest))
    return arms


def run(switches: int, count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hotswap-bench-s3-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        server = stack.enter_context(objectstores.object_store(work / "s3"))
        os.environ.update(server.environ)
        bucket = server.bucket("models", prefix="bench")
        arms = publish(work, bucket, switches + 1)
        size = sum(p.stat().st_size for p in (work / "volume" / MODEL / "versions").rglob("*"))
        stores: dict[str, backends.Backend] = {
            "volume": backends.VolumeBackend(work / "volume"),
            "bucket": backends.BucketBackend(bucket, work / "bench-cache"),
        }
        fleets = {
            "volume": stack.enter_context(fleet(work, "volume", count, store=None)),
            "bucket": stack.enter_context(fleet(work, "bucket", count, store=STORE)),
        }
        times: dict[str, list[float]] = {"volume": [], "bucket": []}
        for generation, arm in enumerate(arms, start=1):
            routing = Routing(stable=arm, generation=generation)
            for kind in ("volume", "bucket"):
                seconds = switch(fleets[kind], stores[kind], routing)
                if generation > 1:  # the first is each fleet's start, not a switch
                    times[kind].append(seconds)
                print(f"  switch {generation}: {kind:6s} {seconds * 1000:8.1f} ms", flush=True)
    return {
        "replicas": count,
        "switches": switches,
        "version_bytes": size // len(arms),
        "seconds": times,
        "summary": {k: summarize(v) for k, v in times.items()},
    }


def summarize(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": statistics.median(ordered),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=6)
    parser.add_argument("--replicas", type=int, default=3)
    args = parser.parse_args()
    found = run(args.switches, args.replicas)
    found |= {"machine": platform.platform(), "load": os.getloadavg(), "python": sys.version}
    volume, bucket = found["summary"]["volume"], found["summary"]["bucket"]
    megabytes, load = found["version_bytes"] / 1e6, os.getloadavg()[0]
    print(f"\n{args.replicas} replicas, {args.switches} switches to a version no pod had, "
          f"~{megabytes:.1f} MB per version, load {load:.1f}")  # fmt: skip
    print(f"  {'':8s} {'p50':>9s} {'max':>9s}")
    for kind, row in (("volume", volume), ("bucket", bucket)):
        print(f"  {kind:8s} {row['p50'] * 1000:7.0f} ms {row['max'] * 1000:7.0f} ms")
    print(f"  bucket / volume p50: {bucket['p50'] / volume['p50']:.2f}x")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"objectstore-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(found, indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
