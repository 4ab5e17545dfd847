"""The bounded load loop on loopback, shared by the demos, the benchmarks and the tests.

Client threads POST /predict with a sticky request key, round-robin over the targets, until a
request count or a deadline is reached, whichever comes first; answers are counted by model
version and arm. A target that has not answered 200 yet is skipped while it says 503, as a
Service skips a pod that is not ready. With `declared` (a `Declared` over routing.json), each
answer is also checked against the versions declared when it came back.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass

from hotswap.local.declarations import Declared
from hotswap.local.tallies import Tally

TEXTS = (
    "I am starving, order me a pizza",
    "feeling great today",
    "how do I cook risotto",
    "so stressed about the exam",
    "hello there",
)


@dataclass(frozen=True)
class Load:
    targets: tuple[tuple[str, int], ...]  # (host, port) of each replica, used round-robin
    requests: int = 1000
    seconds: float = 10.0
    threads: int = 4
    pause: float = 0.0  # seconds each thread waits between two requests

    def __post_init__(self) -> None:
        outside = [host for host, _ in self.targets if not _is_loopback(host)]
        if outside or not self.targets:
            raise ValueError(f"load targets {outside or 'none'}: give 127.0.0.0/8 addresses")


def _is_loopback(host: str) -> bool:
    return host.startswith("127.") or host == "localhost"


def send_traffic(
    load: Load,
    tally: Tally | None = None,
    stop: threading.Event | None = None,
    *,
    declared: Declared | None = None,
) -> Tally:
    """Send at most `load.requests` requests for at most `load.seconds`; return the tally."""
    tally = tally or Tally()
    stop = stop or threading.Event()
    deadline = time.monotonic() + load.seconds
    budget, budget_lock = iter(range(load.requests)), threading.Lock()

    def take() -> int | None:
        with budget_lock:
            return next(budget, None)

    def worker() -> None:
        conns: dict[tuple[str, int], http.client.HTTPConnection] = {}
        while not stop.is_set() and time.monotonic() < deadline and (n := take()) is not None:
            target = load.targets[n % len(load.targets)]
            conn = conns.setdefault(target, http.client.HTTPConnection(*target, timeout=10))
            _one_request(conn, n, tally, declared)
            if load.pause:
                stop.wait(load.pause)
        for conn in conns.values():
            conn.close()

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(load.threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return tally


def _one_request(
    conn: http.client.HTTPConnection, n: int, tally: Tally, declared: Declared | None
) -> None:
    body = json.dumps({"input": TEXTS[n % len(TEXTS)]})
    headers = {"Content-Type": "application/json", "X-Request-Key": f"user-{n % 500}"}
    where = f"{conn.host}:{conn.port}"
    try:
        conn.request("POST", "/predict", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
    except (OSError, http.client.HTTPException) as exc:
        tally.fail(where, type(exc).__name__)
        conn.close()
        return
    version = response.getheader("X-Model-Version", "?")
    arm = response.getheader("X-Model-Arm", "?")
    tally.record(where, response.status, version, arm, allowed=declared)


class LiveTraffic:
    """A load in background threads, until stopped or its bounds are hit."""

    def __init__(self, load: Load, *, declared: Declared | None = None) -> None:
        self.tally = Tally()
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=send_traffic,
            args=(load, self.tally, self.stop),
            kwargs={"declared": declared},
            name="live-traffic",
            daemon=True,
        )

    def __enter__(self) -> LiveTraffic:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)

    def snapshot(self) -> Tally:
        return self.tally.copy()
