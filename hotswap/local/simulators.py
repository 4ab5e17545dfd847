"""A pod simulator: ONE asyncio process that answers the inference pods' admin protocol for many
simulated pods, each on its own loopback address, so the operator can be measured against
hundreds of pods that 2 cores could never run as real inference processes.

What each simulated pod does as a real one does (`hotswap_inference.administering` and
`reloading`): `GET /admin/status` and `POST /admin/reload` need `Authorization: Bearer <token>`;
a reload body is `Routing.to_dict()` plus `"model"`; the same generation twice is a no-op, an
older one is refused as stale (409) unless routing.json declares exactly it; every version of a
new routing is checked on the volume first (its folder confined to the root, every file hashed
against its manifest, the manifest against the routing's digest; a failure is a 422 and the
pod's `lastError`); every `poll_interval` seconds each model's routing.json is read and a newer
generation applied. Both endpoints answer the store's `PodReport.to_dict()` (a reload adding
`"outcome"`), with empty `signals` drawn per pod.

What it does not do: load, warm or serve a model (no `/predict`, no metrics port). Its
predictors say `"simulated"`, and every pod reports the simulator's pid.

    python -m hotswap.local.simulators --plan plan.json --ready ready.json
    (token in HOTSWAP_RELOAD_TOKEN; the plan lists the pods; ready.json gets their ports)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hmac
import http
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hotswap.store import loading, manifests, reports, routes, signalling
from hotswap.store.errors import StoreError
from hotswap.store.layout import ModelPaths
from hotswap.store.routes import Arm, Routing

APPLIED, NOOP = "applied", "noop"
FROM_ROUTING = "routing"
PREDICTOR = reports.PredictorInfo("simulated", None)
MAX_BODY = 1 << 20
IO_TIMEOUT = 10.0
SLOW_SECONDS = 0.5  # what the empty signals say their `slow` count would count above
FIRST_NETWORK = 100  # simulated pods listen on 127.0.100.1, .2, ... then 127.0.101.1, ...
HOSTS_PER_NETWORK = 200


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class SimulatedPod:
    """One simulated pod: where it listens (port 0 until bound) and what it serves."""

    name: str
    model: str
    host: str
    port: int = 0
    routing: Routing | None = None
    last_error: reports.ReloadFailure | None = None
    failed: Routing | None = None  # the last routing that did not load (not polled again)
    epoch: str = field(default_factory=lambda: secrets.token_hex(8))
    started_at: str = field(default_factory=now_text)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def address(self) -> signalling.Address:
        return signalling.Address(self.host, self.port)

    def report(self) -> reports.PodReport:
        served = self.routing.versions if self.routing else ()
        return reports.PodReport(
            model=self.model,
            ready=self.routing is not None,
            routing=self.routing,
            source=FROM_ROUTING if self.routing else None,
            predictors={version: PREDICTOR for version in served},
            last_error=self.last_error,
            pid=os.getpid(),
            signals=reports.Signals(self.epoch, self.started_at, SLOW_SECONDS),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "host": self.host, "port": self.port}


def plan_pods(models: Sequence[str], *, per_model: int) -> list[SimulatedPod]:
    """`per_model` pods for each model, named `<model>-<i>`, on 127.0.100.1 and upwards."""
    found: list[SimulatedPod] = []
    for model in models:
        for index in range(per_model):
            found.append(SimulatedPod(f"{model}-{index}", model, host_of(len(found))))
    return found


def host_of(index: int) -> str:
    network, host = divmod(index, HOSTS_PER_NETWORK)
    return f"127.0.{FIRST_NETWORK + network}.{1 + host}"


class Refused(Exception):
    """An answer other than 200, with the body a real pod gives: {error, message, ...}."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


def check_token(headers: dict[str, str], token: str) -> None:
    auth = headers.get("authorization", "")
    given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    if not hmac.compare_digest(given.encode(), token.encode()):
        message = "missing or wrong token: send Authorization: Bearer <reload token>"
        raise Refused(401, "unauthorized", message)


def parse_reload(raw: bytes, model: str) -> Routing:
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Refused(400, "bad_input", "body: must be a JSON object", field="body")
    if body.get("model") != model:
        message = f"this pod serves {model!r}, not {body.get('model')!r}"
        raise Refused(422, "wrong_model", message, field="model")
    try:
        return Routing.from_dict(body)
    except (StoreError, TypeError, ValueError) as exc:
        message = f"routing is invalid: {exc}"
        raise Refused(400, "invalid_routing", message, field="routing") from exc


def verify_arm(root: Path, model: str, arm: Arm) -> None:
    """What a pod checks before it loads a version (the simulator then loads nothing)."""
    try:
        folder = loading.version_folder(root, model, arm.version)
        manifests.verify_folder(folder, arm.digest)
    except (StoreError, OSError) as exc:
        raise Refused(422, "load_failed", f"version {arm.version} did not load: {exc}") from exc


def declares(root: Path, model: str, routing: Routing) -> bool:
    try:
        return routes.read_routing(ModelPaths(root, model)) == routing
    except (StoreError, OSError):
        return False


class Simulator:
    """Simulated pods on their loopback addresses, answering from one event loop."""

    def __init__(
        self, root: Path, pods: Sequence[SimulatedPod], *, token: str, poll_interval: float = 2.0
    ) -> None:
        self.root, self.pods, self.token = root, list(pods), token
        self.poll_interval = poll_interval
        self.servers: list[asyncio.Server] = []

    async def start(self) -> None:
        """Listen on every pod's address; a pod with port 0 gets a free one."""
        for pod in self.pods:
            handler = functools.partial(self.handle, pod)
            server = await asyncio.start_server(handler, pod.host, pod.port)
            pod.port = server.sockets[0].getsockname()[1]
            self.servers.append(server)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll routing.json until `stop` is set, then close every server."""
        try:
            while not stop.is_set():
                await self.poll()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_interval)
        finally:
            for server in self.servers:
                server.close()

    async def poll(self) -> None:
        """Each model's routing.json read once; its pods apply it when it is newer."""
        models = sorted({pod.model for pod in self.pods})
        declared = await asyncio.to_thread(self.read_all, models)
        for pod in self.pods:
            routing = declared.get(pod.model)
            if routing is None or routing == pod.failed:
                continue
            if pod.routing is None or routing.generation > pod.routing.generation:
                with contextlib.suppress(Refused):
                    await self.apply(pod, routing)

    def read_all(self, models: list[str]) -> dict[str, Routing | None]:
        found: dict[str, Routing | None] = {}
        for model in models:
            try:
                found[model] = routes.read_routing(ModelPaths(self.root, model))
            except (StoreError, OSError):
                found[model] = None
        return found

    async def apply(self, pod: SimulatedPod, routing: Routing) -> str:
        """`applied` or `noop`; raises `Refused` (stale, load_failed) as a pod answers."""
        async with pod.lock:
            applied = pod.routing.generation if pod.routing else -1
            if routing.generation == applied:
                return NOOP
            if routing.generation < applied and not await asyncio.to_thread(
                declares, self.root, pod.model, routing
            ):
                message = (
                    f"generation {routing.generation} is older than the applied {applied}: "
                    "send the latest routing"
                )
                raise Refused(409, "stale", message, generation=applied)
            await self.verify(pod, routing)
            pod.routing, pod.last_error, pod.failed = routing, None, None
            return APPLIED

    async def verify(self, pod: SimulatedPod, routing: Routing) -> None:
        known = set(pod.routing.versions) if pod.routing else set()
        for arm in (routing.stable, routing.canary):
            if arm is None or arm.version in known:
                continue
            try:
                await asyncio.to_thread(verify_arm, self.root, pod.model, arm)
            except Refused as exc:
                pod.failed = routing
                pod.last_error = reports.ReloadFailure(
                    exc.code, arm.version, exc.message, routing.generation, now_text()
                )
                raise

    async def answer(
        self, pod: SimulatedPod, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> dict[str, Any]:
        if (method, path) not in (("GET", signalling.STATUS), ("POST", signalling.RELOAD)):
            raise Refused(404, "not_found", f"{method} {path}: the admin port answers "
                          f"GET {signalling.STATUS} and POST {signalling.RELOAD}")  # fmt: skip
        check_token(headers, self.token)
        if method == "GET":
            return pod.report().to_dict()
        outcome = await self.apply(pod, parse_reload(raw, pod.model))
        return pod.report().to_dict() | {"outcome": outcome}

    async def handle(
        self, pod: SimulatedPod, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            method, path, headers, raw = await asyncio.wait_for(read_request(reader), IO_TIMEOUT)
            try:
                status, body = 200, await self.answer(pod, method, path, headers, raw)
            except Refused as exc:
                status, body = exc.status, exc.body()
            writer.write(response(status, body))
            await asyncio.wait_for(writer.drain(), IO_TIMEOUT)
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError):
            pass  # the client went away or sent no HTTP: nothing to answer
        finally:
            writer.close()


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    """(method, path, lower-cased headers, body) of one HTTP/1.1 request."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    line, *rest = head.split("\r\n")
    method, target, _ = line.split(" ", 2)
    headers = {}
    for item in rest:
        name, sep, value = item.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    if not 0 <= length <= MAX_BODY:
        raise ValueError(f"Content-Length {length} is out of bounds")
    return method, target.split("?", 1)[0], headers, await reader.readexactly(length)


def response(status: int, body: dict[str, Any]) -> bytes:
    payload = json.dumps(body).encode()
    extra = "WWW-Authenticate: Bearer\r\n" if status == 401 else ""
    head = (
        f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n{extra}"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + payload


@contextlib.contextmanager
def serving(
    root: Path, pods: Sequence[SimulatedPod], *, token: str, poll_interval: float = 2.0
) -> Iterator[Simulator]:
    """The simulator on an event loop in a thread of this process (tests); stopped on exit."""
    loop = asyncio.new_event_loop()
    simulator = Simulator(root, pods, token=token, poll_interval=poll_interval)
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_forever, name="pod-simulator", daemon=True)
    thread.start()
    running = None
    try:
        asyncio.run_coroutine_threadsafe(simulator.start(), loop).result(timeout=30)
        running = asyncio.run_coroutine_threadsafe(simulator.run(stop), loop)
        yield simulator
    finally:
        loop.call_soon_threadsafe(stop.set)
        with contextlib.suppress(Exception):
            if running is not None:
                running.result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@dataclass
class SimulatorProcess:
    """`python -m hotswap.local.simulators` as a child process, and the pods it serves."""

    process: subprocess.Popen[bytes]
    pods: list[SimulatedPod]
    log: Path

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def spawn_simulator(
    root: Path,
    pods: Sequence[SimulatedPod],
    *,
    token: str,
    workdir: Path,
    poll_interval: float = 2.0,
    timeout: float = 60.0,
) -> SimulatorProcess:
    """Start the simulator process; returns once every pod listens (with its port)."""
    plan, ready, log = (workdir / f"simulator.{n}" for n in ("plan.json", "ready.json", "log"))
    plan.write_text(json.dumps({"root": str(root), "pollInterval": poll_interval,
                                "pods": [pod.to_dict() for pod in pods]}))  # fmt: skip
    ready.unlink(missing_ok=True)
    module = "hotswap.local.simulators"
    command = [sys.executable, "-m", module, f"--plan={plan}", f"--ready={ready}"]
    env = {**os.environ, "HOTSWAP_RELOAD_TOKEN": token}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    started = SimulatorProcess(process, [], log)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            started.stop()
            raise RuntimeError(f"the pod simulator did not start: see {log}")
        time.sleep(0.05)
    started.pods = [SimulatedPod(**item) for item in json.loads(ready.read_text())]
    return started


async def main_async(plan: dict[str, Any], ready: Path, token: str) -> None:
    pods = [SimulatedPod(**item) for item in plan["pods"]]
    simulator = Simulator(
        Path(plan["root"]), pods, token=token, poll_interval=float(plan["pollInterval"])
    )
    await simulator.start()
    staged = ready.with_suffix(".staging")
    staged.write_text(json.dumps([pod.to_dict() for pod in pods]))
    staged.replace(ready)  # whole or absent: the parent reads it once it exists
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    print(f"pod simulator: {len(pods)} pods listening (pid {os.getpid()})", flush=True)
    await simulator.run(stop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pod simulator: the admin protocol of many pods")
    parser.add_argument("--plan", type=Path, required=True, help="JSON: root, pollInterval, pods")
    parser.add_argument("--ready", type=Path, required=True, help="written once all listen")
    args = parser.parse_args(argv)
    token = os.environ.get("HOTSWAP_RELOAD_TOKEN", "")
    if not token:
        parser.error("HOTSWAP_RELOAD_TOKEN is not set: the pods' reload token")
    asyncio.run(main_async(json.loads(args.plan.read_text()), args.ready, token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
