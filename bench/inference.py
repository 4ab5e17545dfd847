"""Inference benchmark: the full service against a bare Starlette endpoint, reload time, RSS.

Run with `make bench`. Prints figures and writes them to bench/results/inference-<ts>.json;
asserts nothing. Both servers are one uvicorn worker in a subprocess on loopback; the same
threaded keep-alive client drives both, bounded in requests and time.
Targets: throughput ratio (service / bare) >= 0.85; RSS growth over 100 reloads <= 5%.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hotswap.local.replicas import free_ports
from hotswap.store import routes
from hotswap.store.layout import ModelPaths
from hotswap.training import training

MODEL = "intent"
TOKEN = "bench-token"
CLIENTS = 4
REQUESTS = 4_000  # per measured run
MAX_SECONDS = 60.0  # per measured run
WARMUP = 200
ROUNDS = 2
RELOADS = 100
TEXTS = ["I'll have sushi for two.", "I'm so delighted after a great workout", "hello there"]
RESULTS = Path(__file__).resolve().parent / "results"

BARE_APP = """
import sys, joblib, uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route

with open(sys.argv[1], "rb") as handle:
    pipeline = joblib.load(handle)

async def predict(request):
    text = (await request.json())["input"]
    label = await run_in_threadpool(pipeline.predict, [text])
    return JSONResponse({"label": str(label[0])})

app = Starlette(routes=[Route("/predict", predict, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), access_log=False, log_level="warning")
"""


# The full service with the fast path turned off: sklearn's pipeline serves, as in the bare app.
SKLEARN_SERVICE = """
import sys
from hotswap_inference import __main__, accelerating, predictors
def plain(loaded, **_):
    return predictors.SklearnPredictor(loaded.estimator), "off"
accelerating.build_predictor = plain
sys.exit(__main__.main(sys.argv[1:]))
"""


JSON_HEADERS = {"Content-Type": "application/json"}  # the service refuses other bodies (415)


def wait_listening(port: int, path: str, *, method: str = "GET", body: bytes | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status = request(port, method, path, body=body, headers=JSON_HEADERS)[0]
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not answer {path} within 60 s")


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def client_loop(
    port: int, count: int, deadline: float, out: list[float], errors: list[int]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    for i in range(count):
        if time.monotonic() > deadline:
            break
        body = json.dumps({"input": TEXTS[i % len(TEXTS)]}).encode()
        started = time.perf_counter()
        conn.request("POST", "/predict", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        out.append(time.perf_counter() - started)
        if response.status != 200:
            errors.append(response.status)
    conn.close()


def load(port: int, total: int) -> dict[str, float]:
    """`total` requests from CLIENTS keep-alive threads; requests/s and latency percentiles."""
    latencies: list[float] = []
    errors: list[int] = []
    deadline = time.monotonic() + MAX_SECONDS
    per_client = total // CLIENTS
    threads = [
        threading.Thread(target=client_loop, args=(port, per_client, deadline, latencies, errors))
        for _ in range(CLIENTS)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": len(errors),
        "rps": len(ordered) / elapsed,
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99)] * 1000,
    }


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def reload_once(admin_port: int, routing: routes.Routing) -> float:
    body = json.dumps(routing.to_dict() | {"model": MODEL}).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    started = time.perf_counter()
    status, raw = request(admin_port, "POST", "/admin/reload", body=body, headers=headers)
    if status != 200:
        raise RuntimeError(f"reload answered {status}: {raw[:300]!r}")
    return time.perf_counter() - started


def publish(root: Path) -> list[routes.Arm]:
    arms = []
    for seed in (0, 1, 2):
        published = training.train(root, MODEL, seed=seed).published
        arms.append(routes.Arm(published.version, published.digest))
    return arms


def start_service(
    root: Path, work: Path, ports: list[int], *, fast: bool = True
) -> subprocess.Popen[bytes]:
    env = os.environ | {"HOTSWAP_RELOAD_TOKEN": TOKEN, "HOTSWAP_POLL_INTERVAL": "3600"}
    name = "fast" if fast else "sklearn"
    launch = ["-m", "hotswap_inference"] if fast else ["-c", SKLEARN_SERVICE]
    command = [sys.executable, *launch, "--root", str(root), "--model", MODEL]
    command += ["--port", str(ports[0]), "--admin-port", str(ports[1])]
    command += ["--metrics-port", str(ports[2]), "--query-log-file", str(work / f"{name}.jsonl")]
    with open(work / f"{name}.stdout", "wb") as out:
        return subprocess.Popen(command, env=env, stdout=out)


def start_bare(version_folder: Path, port: int) -> subprocess.Popen[bytes]:
    script = [sys.executable, "-c", BARE_APP, str(version_folder / "model.joblib"), str(port)]
    return subprocess.Popen(script)


def compare(ports: dict[str, int]) -> dict[str, Any]:
    """Interleaved rounds over every server; mean figures per server, ratios to bare."""
    body = json.dumps({"input": "hello"}).encode()
    for port in ports.values():
        wait_listening(port, "/predict", method="POST", body=body)
        load(port, WARMUP)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in ports}
    for _ in range(ROUNDS):
        for name, port in ports.items():
            runs[name].append(load(port, REQUESTS))
    merged: dict[str, Any] = {name: merge(results) for name, results in runs.items()}
    merged["ratio"] = merged["service"]["rps"] / merged["bare"]["rps"]
    merged["ratio_sklearn_path"] = merged["service_sklearn"]["rps"] / merged["bare"]["rps"]
    return merged


def merge(results: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.mean(r[key] for r in results) for key in results[0]}


def measure_reloads(
    admin_port: int, pid: int, arms: list[routes.Arm], generation: int
) -> dict[str, Any]:
    durations = [
        reload_once(
            admin_port,
            routes.Routing(stable=arms[1], canary=arms[2], weight=10, generation=generation),
        )
    ]
    after_one = rss_kib(pid)
    for i in range(1, RELOADS):
        canary = arms[2] if i % 2 else arms[0]
        routing = routes.Routing(
            stable=arms[1], canary=canary, weight=10, generation=generation + i
        )
        durations.append(reload_once(admin_port, routing))
    after_hundred = rss_kib(pid)
    ordered = sorted(durations)
    return {
        "reloads": len(durations),
        "reload_p50_ms": ordered[len(ordered) // 2] * 1000,
        "reload_max_ms": ordered[-1] * 1000,
        "rss_after_1_kib": after_one,
        "rss_after_100_kib": after_hundred,
        "rss_growth_percent": (after_hundred - after_one) / after_one * 100,
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hotswap-bench-") as tmp:
        work = Path(tmp)
        root = work / "models"
        arms = publish(root)
        routing = routes.Routing(stable=arms[0], canary=arms[1], weight=10, generation=1)
        routes.write_routing(ModelPaths(root, MODEL), routing)
        ports = free_ports(7)
        service = start_service(root, work, ports[:3])
        plain = start_service(root, work, ports[3:6], fast=False)
        bare = start_bare(ModelPaths(root, MODEL).version(arms[0].version), ports[6])
        try:
            figures = compare({"service": ports[0], "service_sklearn": ports[3], "bare": ports[6]})
            figures["reload"] = measure_reloads(ports[1], service.pid, arms, generation=2)
        finally:
            for process in (service, plain, bare):
                process.terminate()
                process.wait(timeout=30)
        # read after the clean stop: the query log is buffered and written off the request path
        figures["query_log_lines"] = len((work / "fast.jsonl").read_text().splitlines())
        figures["service_exit_code"] = service.returncode
        return figures


def report(figures: dict[str, Any]) -> None:
    reload = figures["reload"]
    print(f"{'':16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    rows = [(n, figures[n]) for n in ("service", "service_sklearn", "bare")]
    for name, row in rows:
        print(
            f"{name:16} {row['rps']:9.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} "
            f"{row['errors']:7.0f}"
        )
    print(f"throughput ratio service/bare: {figures['ratio']:.3f} (target >= 0.85)")
    print(f"ratio with the fast path off (sklearn/bare): {figures['ratio_sklearn_path']:.3f}")
    print(f"reload: p50 {reload['reload_p50_ms']:.0f} ms, max {reload['reload_max_ms']:.0f} ms")
    print(
        f"RSS after 1 reload {reload['rss_after_1_kib']} KiB, after {reload['reloads']}: "
        f"{reload['rss_after_100_kib']} KiB, growth {reload['rss_growth_percent']:.2f}% "
        "(target <= 5%)"
    )
    print(f"service exit code after SIGTERM: {figures['service_exit_code']}")
    print(f"query-log lines the service wrote by its exit: {figures['query_log_lines']}")


def main() -> int:
    figures = run()
    figures |= {
        "clients": CLIENTS,
        "requests_per_run": REQUESTS,
        "rounds": ROUNDS,
        "cpus": os.cpu_count(),
    }
    report(figures)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"inference-{stamp}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
