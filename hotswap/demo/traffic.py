"""A bounded load loop on loopback that counts answers by model version and arm.

Used by the demo and the end-to-end tests: a few client threads POST /predict with a sticky
request key until a request count or a deadline is reached, whichever comes first.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

TEXTS = (
    "I am starving, order me a pizza",
    "feeling great today",
    "how do I cook risotto",
    "so stressed about the exam",
    "hello there",
)


@dataclass
class Tally:
    """What a load loop saw; safe to update from several threads."""

    answers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (version, arm)
    failures: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int, version: str, arm: str) -> None:
        with self.lock:
            if status == 200:
                self.answers[(version, arm)] += 1
            else:
                self.failures[f"HTTP {status}"] += 1

    def fail(self, reason: str) -> None:
        with self.lock:
            self.failures[reason] += 1

    @property
    def total(self) -> int:
        return sum(self.answers.values()) + sum(self.failures.values())

    def by_version(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for (version, _arm), n in self.answers.items():
            counts[version] += n
        return counts


@dataclass(frozen=True)
class Load:
    host: str
    port: int
    requests: int = 1000
    seconds: float = 10.0
    threads: int = 4


def send_traffic(
    load: Load, tally: Tally | None = None, stop: threading.Event | None = None
) -> Tally:
    """Send at most `load.requests` requests for at most `load.seconds`; return the tally."""
    if not load.host.startswith("127.") and load.host != "localhost":
        raise ValueError(f"load host {load.host!r} is not loopback: traffic stays on 127.0.0.0/8")
    tally = tally or Tally()
    stop = stop or threading.Event()
    deadline = time.monotonic() + load.seconds
    budget = iter(range(load.requests))
    budget_lock = threading.Lock()

    def take() -> int | None:
        with budget_lock:
            return next(budget, None)

    def worker() -> None:
        conn = http.client.HTTPConnection(load.host, load.port, timeout=10)
        while not stop.is_set() and time.monotonic() < deadline and (n := take()) is not None:
            _one_request(conn, n, tally)
        conn.close()

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(load.threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return tally


def _one_request(conn: http.client.HTTPConnection, n: int, tally: Tally) -> None:
    body = json.dumps({"input": TEXTS[n % len(TEXTS)]})
    headers = {"Content-Type": "application/json", "X-Request-Key": f"user-{n % 500}"}
    try:
        conn.request("POST", "/predict", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
    except (OSError, http.client.HTTPException) as exc:
        tally.fail(type(exc).__name__)
        conn.close()
        return
    version = response.getheader("X-Model-Version", "?")
    tally.record(response.status, version, response.getheader("X-Model-Arm", "?"))


class LiveTraffic:
    """Load on several replicas in background threads, until stopped or its bounds are hit."""

    def __init__(self, loads: list[Load]) -> None:
        self.tally = Tally()
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=send_traffic, args=(load, self.tally, self.stop), daemon=True)
            for load in loads
        ]

    def __enter__(self) -> LiveTraffic:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def snapshot(self) -> Tally:
        with self.tally.lock:
            return Tally(Counter(self.tally.answers), Counter(self.tally.failures))
