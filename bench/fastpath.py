"""Fast-path benchmark: the Hotswap app beside plain Starlette + sklearn, in one run.

Servers (one uvicorn worker each, pinned to core 0 with taskset), measured one at a time:
  floor           async endpoint, constant JSON: the framework alone
  sklearn-text    `pipeline.predict` per request in the threadpool (the issue's baseline)
  sklearn-loop    the same on the event loop (what blocks it)
  hotswap-text    the real app: canary split 90/10, metrics, query log to a file, fast path;
                  its request path compiled by mypyc, as the inference image ships it (from
                  `--native`, default .native/: `make native`; interpreted when missing)
  hotswap-text-py the same app on the interpreted sources (only beside a compiled build)
  sklearn-forest  `forest.predict_proba` per request in the threadpool
  hotswap-forest  the real app, V2 `/v2/models/{name}/infer`, fast path
Load: wrk (Debian: `apt-get install -y wrk`, or `make system-deps`) pinned to core 1, 64
connections, a fixed duration per server; every server is measured `--rounds` times, round by
round, and the median round (by req/s) is the figure, with the spread beside it. Besides wrk's
figures, the server's CPU time per request (all its threads, from /proc) is recorded: it moves
far less than req/s when neighbours share the machine. The load average is recorded too.
Prints side-by-side ratios; writes bench/results/fastpath-<timestamp>.json.
Run: `.venv/bin/python bench/fastpath.py [--seconds 10] [--rounds 2] [--connections 64]`.
`--in-process N` instead makes N requests without sockets, twice: as request bytes fed to
the serving port's connection protocol (what a `POST /predict` takes: parsed by httptools,
answered on the spot by the shortcut) and through the app's ASGI callable (the path of every
other request); it prints the CPU time per request of each. `--instructions` runs the first
under callgrind at two values of N and prints instructions per request: the steady measure
to iterate with on shared cores, where CPU time is not (needs valgrind). Both run the modules
this interpreter imports: `PYTHONPATH=.native` measures the compiled build.
Every hotswap answer carries a signed feedback token, as with a feedback key in production;
`HOTSWAP_FEEDBACK_KEY= ... --in-process N` (empty) measures without one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
NATIVE = Path(__file__).resolve().parents[1] / ".native"  # `make native`: the compiled build
COMPILED_LIBRARY = "hotswap_native__mypyc"  # its shared library, in a process's memory map
FEEDBACK_KEY = "bench-feedback-key-0123456789"
HOST = "127.0.0.1"
WRK_SCRIPT = """
local bodies = %s
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %%d, "duration_us": %%d, "errors": %%d, ' ..
    '"non_2xx": %%d, "p50_us": %%d, "p99_us": %%d}\\n', summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50),
    latency:percentile(99)))
end
"""


def prepare_models(root: Path) -> dict[str, Any]:
    """Two intent versions (stable + 10% canary) and one forest, published through the store."""
    from hotswap.store import routes, switching
    from hotswap.store.layout import ModelPaths
    from hotswap.store.loading import load_version
    from hotswap.training import training

    stable, canary = (training.train(root, "intent", seed=s).published for s in (0, 1))
    arm = lambda p: routes.Arm(p.version, p.digest)  # noqa: E731
    paths = ModelPaths(root, "intent")
    routes.write_routing(paths, routes.Routing(stable=arm(stable), canary=arm(canary), weight=10))
    switching.switch_current(paths, stable.version)
    forest = training.train(root, "iris", estimator="random-forest").published
    switching.switch_current(ModelPaths(root, "iris"), forest.version)
    texts = load_version(root, "intent", stable.version).samples
    rows = load_version(root, "iris", forest.version).samples
    return {"texts": texts, "rows": rows, "stable": stable.version, "forest": forest.version}


def bodies_for(kind: str, models: dict[str, Any]) -> list[str]:
    if "-text" in kind or kind in ("floor", "sklearn-loop"):
        return [json.dumps({"input": text}) for text in models["texts"]]
    if kind == "sklearn-forest":
        return [json.dumps({"input": row}) for row in models["rows"]]
    tensor = lambda row: {"name": "input", "shape": [1, len(row)], "datatype": "FP64"}  # noqa: E731
    return [json.dumps({"inputs": [{**tensor(r), "data": r}]}) for r in models["rows"]]


def minimal_app(kind: str, root: Path) -> Any:
    """A plain Starlette app: the framework floor or per-request sklearn."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    estimator = None if kind == "floor" else _current_estimator(root, kind)

    def answer(item: Any) -> dict[str, Any]:
        proba = estimator.predict_proba([item])[0]
        best = int(proba.argmax())
        return {"label": str(estimator.classes_[best]), "confidence": float(proba[best])}

    async def endpoint(request: Request) -> JSONResponse:
        item = (await request.json())["input"]
        if kind == "floor":
            return JSONResponse({"label": "greeting", "confidence": 1.0})
        if kind == "sklearn-loop":
            return JSONResponse(answer(item))
        return JSONResponse(await run_in_threadpool(answer, item))

    async def ready(request: Request) -> JSONResponse:
        return JSONResponse({"ready": True})

    return Starlette(
        routes=[Route("/predict", endpoint, methods=["POST"]), Route("/readyz", ready)]
    )


def _current_estimator(root: Path, kind: str) -> Any:
    from hotswap.store import switching
    from hotswap.store.layout import ModelPaths
    from hotswap.store.loading import load_version

    model = "iris" if kind == "sklearn-forest" else "intent"
    version = switching.read_current(ModelPaths(root, model))
    assert version is not None
    return load_version(root, model, version).estimator


def serve_minimal(kind: str, root: Path, port: int) -> None:
    import uvicorn

    app = minimal_app(kind, root)
    uvicorn.run(app, host=HOST, port=port, log_level="warning", access_log=False)


def start_server(
    kind: str, root: Path, port: int, workdir: Path, native: Path | None
) -> subprocess.Popen[bytes]:
    pin = ["taskset", "-c", "0"]
    if kind.startswith("hotswap"):
        env = {
            **os.environ,
            "HOTSWAP_MODEL_ROOT": str(root),
            "HOTSWAP_MODEL": "intent" if kind.startswith("hotswap-text") else "iris",
            "HOTSWAP_PORT": str(port),
            "HOTSWAP_ADMIN_PORT": str(port + 1),
            "HOTSWAP_METRICS_PORT": str(port + 2),
            "HOTSWAP_RELOAD_TOKEN": "bench-token",
            "HOTSWAP_FEEDBACK_KEY": FEEDBACK_KEY,  # every answer carries a signed token
            "HOTSWAP_QUERY_LOG_STDOUT": "false",
            "HOTSWAP_QUERY_LOG_FILE": str(workdir / f"{kind}-queries.jsonl"),
            "HOTSWAP_POLL_INTERVAL": "3600",
        }
        if wants_compiled(kind, native):
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(native), env.get("PYTHONPATH")]))
        command = [*pin, sys.executable, "-m", "hotswap_inference"]
    else:
        env = dict(os.environ)
        command = [*pin, sys.executable, __file__, "--serve", kind, "--root", str(root)]
        command += ["--port", str(port)]
    log = (workdir / f"{kind}.log").open("wb")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(port: int, path: str, *, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server on {HOST}:{port} not ready after {timeout:.0f}s ({path})")


def run_wrk(url: str, bodies: list[str], *, seconds: float, connections: int) -> dict[str, Any]:
    """One wrk run on core 1, bounded in time; its figures, parsed from the script's output."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % _lua_table(bodies))
    command = [
        "taskset",
        "-c",
        "1",
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
    ]
    command += ["--timeout", "5s", "-s", script.name, url]
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout
    os.unlink(script.name)
    raw = read_result(out)
    return {
        "requests": raw["requests"],
        "errors": raw["errors"] + raw["non_2xx"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1e3,
        "p99_ms": raw["p99_us"] / 1e3,
    }


def read_result(out: str, detail: str = "") -> dict[str, Any]:
    """The figures a wrk script's `done` printed as one `RESULT {json}` line."""
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}{detail}")
    raw: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return raw


def _lua_table(bodies: list[str]) -> str:
    quoted = [json.dumps(body) for body in bodies]  # JSON string escapes are valid Lua ones
    return "{" + ", ".join(quoted) + "}"


def measure(kind: str, models: dict[str, Any], args: argparse.Namespace, workdir: Path) -> Any:
    port = args.port
    server = start_server(kind, Path(models["root"]), port, workdir, args.native)
    try:
        wait_ready(port, "/readyz")
        compiled = runs_compiled(server.pid)
        if kind.startswith("hotswap") and compiled != wants_compiled(kind, args.native):
            raise RuntimeError(f"{kind} runs {'compiled' if compiled else 'interpreted'} code")
        path = "/v2/models/iris/infer" if kind == "hotswap-forest" else "/predict"
        url, bodies = f"http://{HOST}:{port}{path}", bodies_for(kind, models)
        run_wrk(url, bodies, seconds=args.warmup, connections=args.connections)
        cpu_before = cpu_seconds(server.pid)
        figures = run_wrk(url, bodies, seconds=args.seconds, connections=args.connections)
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=30)
    figures["cpu_us_per_request"] = cpu * 1e6 / max(figures["requests"], 1)
    figures["p99_over_p50"] = figures["p99_ms"] / figures["p50_ms"]
    figures["compiled"] = compiled
    print(
        f"  {kind:16s} {figures['rps']:7.0f} req/s  p50 {figures['p50_ms']:7.2f} ms  "
        f"p99 {figures['p99_ms']:7.2f} ms  p99/p50 {figures['p99_over_p50']:5.1f}  "
        f"cpu {figures['cpu_us_per_request']:5.0f} us/req  errors {figures['errors']}",
        flush=True,
    )
    return figures


def wants_compiled(kind: str, native: Path | None) -> bool:
    """Whether `kind` runs the compiled build: every Hotswap server but its interpreted twin,
    when there is a build."""
    return native is not None and kind.startswith("hotswap") and kind != "hotswap-text-py"


def runs_compiled(pid: int) -> bool:
    """Whether the process has the compiled request path loaded (its memory map)."""
    return COMPILED_LIBRARY in Path(f"/proc/{pid}/maps").read_text()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median req/s (the lower middle one for an even count), and the spread."""
    ordered = sorted(runs, key=lambda run: run["rps"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["rps_spread"] = [ordered[0]["rps"], ordered[-1]["rps"]]
    middle["errors"] = sum(run["errors"] for run in runs)
    return middle


def ratios(figures: dict[str, dict[str, Any]]) -> dict[str, float]:
    rps = {kind: f["rps"] for kind, f in figures.items()}
    cpu = {kind: f["cpu_us_per_request"] for kind, f in figures.items()}
    text, forest = figures["hotswap-text"], figures["hotswap-forest"]
    return {
        "text_vs_sklearn_threadpool": rps["hotswap-text"] / rps["sklearn-text"],
        "text_vs_sklearn_on_loop": rps["hotswap-text"] / rps["sklearn-loop"],
        "text_vs_framework_floor": rps["hotswap-text"] / rps["floor"],
        "text_p99_over_p50": text["p99_ms"] / text["p50_ms"],
        "forest_vs_sklearn_threadpool": rps["hotswap-forest"] / rps["sklearn-forest"],
        "forest_vs_framework_floor": rps["hotswap-forest"] / rps["floor"],
        "forest_p99_over_p50": forest["p99_ms"] / forest["p50_ms"],
        # the same comparisons in CPU per request: what req/s would be on a quiet core
        "cpu_text_vs_sklearn_threadpool": cpu["sklearn-text"] / cpu["hotswap-text"],
        "cpu_text_vs_framework_floor": cpu["floor"] / cpu["hotswap-text"],
        "cpu_forest_vs_sklearn_threadpool": cpu["sklearn-forest"] / cpu["hotswap-forest"],
    }


def verdicts(figures: dict[str, dict[str, Any]], ratio: dict[str, float]) -> dict[str, bool]:
    return {
        "text >= 5x sklearn per request": ratio["text_vs_sklearn_threadpool"] >= 5,
        "text p99 <= 50 ms": figures["hotswap-text"]["p99_ms"] <= 50,
        "text p99 <= 5x p50": ratio["text_p99_over_p50"] <= 5,
        "forest >= 5x sklearn per request": ratio["forest_vs_sklearn_threadpool"] >= 5,
        "forest p99 <= 5x p50": ratio["forest_p99_over_p50"] <= 5,
        f"text CPU <= {TEXT_CPU_TARGET_US} us per request": (
            figures["hotswap-text"]["cpu_us_per_request"] <= TEXT_CPU_TARGET_US
        ),
        "no errors": all(f["errors"] == 0 for f in figures.values()),
    }


TEXT_CPU_TARGET_US = 100  # issue 13: every feature on, 64 connections, one core


def cpu_line(figures: dict[str, dict[str, Any]]) -> str:
    """CPU per text request beside per-request sklearn and the floor, measured in this run."""
    cpu = {kind: f["cpu_us_per_request"] for kind, f in figures.items()}
    text = cpu["hotswap-text"]
    build = "compiled" if figures["hotswap-text"]["compiled"] else "interpreted"
    line = (
        f"text CPU per request: {text:.0f} us ({build}; target {TEXT_CPU_TARGET_US}); "
        f"per-request sklearn {cpu['sklearn-text']:.0f} us ({cpu['sklearn-text'] / text:.1f}x "
        f"ours); constant-route floor {cpu['floor']:.0f} us (ours {text / cpu['floor']:.2f}x it, "
        f"{text - cpu['floor']:+.0f} us)"
    )
    if "hotswap-text-py" in cpu:
        interpreted = cpu["hotswap-text-py"]
        line += f"; interpreted {interpreted:.0f} us (compiled: {text / interpreted - 1:+.0%})"
    return line


KINDS = (
    "floor",
    "sklearn-text",
    "sklearn-loop",
    "hotswap-text",
    "hotswap-text-py",
    "sklearn-forest",
    "hotswap-forest",
)


def kinds_for(native: Path | None) -> tuple[str, ...]:
    """Every server; the interpreted twin only beside a compiled build."""
    return KINDS if native is not None else tuple(k for k in KINDS if k != "hotswap-text-py")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per server")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per server")
    parser.add_argument("--rounds", type=int, default=2, help="measurements per server")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--native", type=Path, default=NATIVE, help="the compiled build's folder")
    parser.add_argument("--port", type=int, default=18300, help="first of three loopback ports")
    parser.add_argument("--in-process", type=int, metavar="N", help="N in-process requests")
    parser.add_argument("--only", choices=("protocol", "asgi"), help="with --in-process")
    parser.add_argument("--instructions", action="store_true", help="per request, callgrind")
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve_minimal(args.serve, args.root, args.port)
        return 0
    if args.in_process is not None:
        return in_process(args.in_process, root=args.root, only=args.only)
    if args.instructions:
        return instructions()
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        print(f"bench/fastpath.py needs {missing}: install with `apt-get install -y wrk`")
        return 2
    if not (args.native / ".built").exists():
        print(f"no compiled build in {args.native} (`make native`): the app runs interpreted")
        args.native = None
    return run_all(args)


def in_process(count: int, *, root: Path | None = None, only: str | None = None) -> int:
    """CPU time per /predict of the real text app (split, metrics, query log), no sockets: fed
    to the serving port's protocol as bytes, then through the ASGI callable (`only` one of
    them). `root`: models `prepare_models` made already (else made here)."""
    from hotswap_inference import running
    from hotswap_inference.settings import Settings

    with tempfile.TemporaryDirectory(prefix="hotswap-bench-") as folder:
        texts = stored_texts(root) if root else prepare_models(Path(folder) / "models")["texts"]
        settings = Settings(
            model_root=root or Path(folder) / "models",
            query_log_stdout=False,
            query_log_file=Path(folder) / "queries.jsonl",
            feedback_key=os.environ.get("HOTSWAP_FEEDBACK_KEY", FEEDBACK_KEY),
        )
        serving = running.build_servers(settings)[0]
        app = serving.config.app
        app.state.service.reloader.poll()
        bodies = [json.dumps({"input": text}).encode() for text in texts]
        loop = asyncio.new_event_loop()
        try:
            for path, drive in (("protocol", _feed), ("asgi", _drive)):
                if only not in (None, path):
                    continue
                drive(loop, serving, bodies, 200)  # warm-up
                started = time.process_time()
                drive(loop, serving, bodies, count)
                cpu = time.process_time() - started
                print(f"in-process ({path}): {count} requests, {cpu * 1e6 / max(count, 1):.1f} us "
                      "CPU per request")  # fmt: skip
        finally:
            loop.close()
            app.state.service.querylog.close()
    return 0


def stored_texts(root: Path) -> list[Any]:
    """The sample texts of the text model that serves in `root` (made by `prepare_models`)."""
    from hotswap.store import switching
    from hotswap.store.layout import ModelPaths
    from hotswap.store.loading import load_version

    version = switching.read_current(ModelPaths(root, "intent"))
    assert version is not None
    return list(load_version(root, "intent", version).samples)


DETERMINISTIC = {  # one BLAS thread (its workers spin), one hash seed (set and dict orders)
    "PYTHONHASHSEED": "0",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def instructions(low: int = 200, high: int = 2200) -> int:
    """Instructions per request of the shortcut path in one process: `--in-process` at two
    counts under callgrind, the difference over the difference in requests (so start-up, the
    model load and the warm-up cancel out). Deterministic to ~0.5% where CPU time on shared
    cores moves by a third from one minute to the next; a few minutes (callgrind runs ~50x
    slower)."""
    if shutil.which("valgrind") is None:
        print("bench/fastpath.py --instructions needs valgrind: `apt-get install -y valgrind`")
        return 2
    with tempfile.TemporaryDirectory(prefix="hotswap-bench-") as folder:
        root = Path(folder) / "models"
        prepare_models(root)
        runs = {}
        for count in (low, high):
            out = Path(folder) / f"callgrind.{count}"
            command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                       sys.executable, __file__, "--in-process", str(count), "--root", str(root),
                       "--only", "protocol"]  # fmt: skip
            pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
            runs[count] = (out, subprocess.Popen(command, env=os.environ | DETERMINISTIC, **pipes))
        totals = {count: _callgrind_total(out, process) for count, (out, process) in runs.items()}
    per_request = (totals[high] - totals[low]) / (high - low)
    print(f"instructions per request (POST /predict answered on the spot, in process): "
          f"{per_request / 1000:.1f}k ({high} - {low} requests under callgrind)")  # fmt: skip
    return 0


def _callgrind_total(out: Path, process: subprocess.Popen[bytes]) -> int:
    _, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"callgrind run failed:\n{err.decode(errors='replace')[-2000:]}")
    for line in out.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no instruction total in {out}")


class _Transport(asyncio.Transport):
    """Raises on any answer but a 200."""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        answers = bytes(data)  # every answer the connection wrote since the loop last ran
        if answers.count(b"HTTP/1.1 ") != answers.count(b"HTTP/1.1 200 "):
            raise RuntimeError(f"in-process request answered {answers[:60]!r}")

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": (HOST, 8000), "peername": (HOST, 50000)}.get(name, default)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


def _feed(loop: Any, serving: Any, bodies: list[bytes], count: int) -> None:
    """`count` POST /predict requests fed as bytes to one keep-alive connection of the serving
    port's protocol, as asyncio hands them over (`running.make_server`'s class)."""
    from uvicorn.server import ServerState

    config = serving.config
    if not config.loaded:
        config.load()
    state = ServerState()
    state.default_headers = [(b"date", b"Wed, 02 Dec 2026 12:00:00 GMT"), (b"server", b"uvicorn")]
    protocol_class = config.http_protocol_class
    protocol = protocol_class(config=config, server_state=state, app_state={}, _loop=loop)
    protocol.connection_made(_Transport())
    head = b"POST /predict HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
    requests = [head % HOST.encode() + b"Content-Length: %d\r\n\r\n" % len(b) + b for b in bodies]
    for i in range(count):
        protocol.data_received(requests[i % len(requests)])
        if i % 500 == 499:  # the timers the connection armed and cancelled run or drop
            loop.run_until_complete(asyncio.sleep(0))
    if protocol.pool.shortcuts < count:
        raise RuntimeError(f"{count - protocol.pool.shortcuts} requests not answered on the spot")
    protocol.connection_lost(None)


def _drive(loop: Any, serving: Any, bodies: list[bytes], count: int) -> None:
    loop.run_until_complete(_through_asgi(serving.config.app, bodies, count))


async def _through_asgi(app: Any, bodies: list[bytes], count: int) -> None:
    """`count` POST /predict calls through the ASGI interface, as uvicorn would make them."""
    for i in range(count):
        body = bodies[i % len(bodies)]
        headers = [(b"host", HOST.encode()), (b"content-type", b"application/json")]
        headers.append((b"content-length", str(len(body)).encode()))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1"}
        scope |= {"method": "POST", "scheme": "http", "path": "/predict", "query_string": b""}
        scope |= {"raw_path": b"/predict", "root_path": "", "headers": headers}
        scope |= {"client": (HOST, 50000), "server": (HOST, 8000)}
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive(messages: list[Any] = messages) -> Any:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            if message.get("status", 200) != 200:
                raise RuntimeError(f"in-process request answered {message['status']}")

        await app(scope, receive, send)


def core_speed_ms(tries: int = 5) -> float:
    """Milliseconds a pure-Python loop, `sum(range(10**6))`, takes on one core (best of
    `tries`): how fast this VM's cores run today. The same code's CPU figures moved 2x between
    days (session 5: 17-18 ms; session 8: 20-22 ms, CPU per request 141 us where a faster day
    gave 90), so figures of different days compare only beside this."""
    best = math.inf
    for _ in range(tries):
        started = time.perf_counter()
        sum(range(10**6))
        best = min(best, time.perf_counter() - started)
    return best * 1e3


def run_all(args: argparse.Namespace) -> int:
    load = {"before": os.getloadavg(), "core_speed_ms": core_speed_ms()}
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds_for(args.native)}
    with tempfile.TemporaryDirectory(prefix="hotswap-bench-") as folder:
        workdir = Path(folder)
        models = {**prepare_models(workdir / "models"), "root": str(workdir / "models")}
        print(
            f"fast path bench: {args.connections} connections, {args.seconds:g}s per server, "
            f"{args.rounds} round(s); load average {load['before'][0]:.2f}; core speed "
            f"{load['core_speed_ms']:.1f} ms (sum(range(10**6))); {server_stack()}"
        )
        for number in range(args.rounds):
            print(f"round {number + 1}:", flush=True)
            for kind, kind_runs in runs.items():
                kind_runs.append(measure(kind, models, args, workdir))
    load["after"] = os.getloadavg()
    figures = {kind: median_run(kind_runs) for kind, kind_runs in runs.items()}
    ratio = ratios(figures)
    checks = verdicts(figures, ratio)
    report(figures, ratio, checks, args, extra={"runs": runs, "load_average": load})
    return 0


def server_stack() -> str:
    """The event loop and HTTP parser of the servers here: baselines take uvicorn's "auto"
    choice, the Hotswap app always runs on asyncio (hotswap_inference.running)."""
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"baselines on {loop} + {http}, the app on asyncio + {http}"


def report(
    figures: Any, ratio: dict[str, float], checks: dict[str, bool], args: Any, *, extra: Any
) -> None:
    print(f"median of {args.rounds} round(s) (req/s spread min-max):")
    for kind, f in figures.items():
        low, high = f["rps_spread"]
        print(
            f"  {kind:16s} {f['rps']:7.0f} req/s ({low:.0f}-{high:.0f})  p50 {f['p50_ms']:7.2f}  "
            f"p99 {f['p99_ms']:7.2f} ms  p99/p50 {f['p99_over_p50']:5.1f}  "
            f"cpu {f['cpu_us_per_request']:5.0f} us/req"
        )
    for name, value in ratio.items():
        print(f"  {name:30s} {value:7.2f}x")
    print(f"  {cpu_line(figures)}; load average {os.getloadavg()[0]:.2f}")
    for name, passed in checks.items():
        print(f"  [{'ok' if passed else 'MISSED'}] {name}")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"fastpath-{stamp}.json"
    settings = {
        "seconds": args.seconds,
        "rounds": args.rounds,
        "connections": args.connections,
        "cores": "server 0, wrk 1",
        "server": server_stack(),
        "compiled": str(args.native) if args.native else None,
    }
    body = {"settings": settings, "figures": figures, "ratios": ratio, "checks": checks}
    body |= extra
    path.write_text(json.dumps(body, indent=2) + "\n")
    print(f"written {path}")


if __name__ == "__main__":
    sys.exit(main())
