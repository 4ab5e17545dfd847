"""The bounded load loop on loopback, shared by the demos, the benchmarks and the tests.

Client threads POST /predict with a sticky request key, round-robin over the targets, until a
request count or a deadline is reached, whichever comes first; answers are counted by model
version and arm. A target that has not answered 200 yet is skipped while it says 503, as a
Service skips a pod that is not ready (those 503s are counted apart, in `Tally.not_ready`, and
the client rests a moment before its next request, so a loading pod is not kept busy with them).
With `declared` (a `Declared` over routing.json), each answer is also checked against the
versions declared when it came back, and its arm is tallied by request key under the routing
generation once settled (`Tally.splits`).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import select
import threading
import time
from dataclasses import dataclass
from typing import Any

from hotswap.local.declarations import Declared
from hotswap.local.tallies import Tally

NOT_READY_PAUSE = 0.2  # seconds a client rests after a target not ready yet answered 503

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
    labelled: tuple[tuple[str, str], ...] = ()  # (text, true label): send feedback on each answer

    def __post_init__(self) -> None:
        outside = [host for host, _ in self.targets if not _is_local(host)]
        if outside or not self.targets:
            raise ValueError(
                f"load targets {outside or 'none'}: give 127.0.0.0/8 addresses, or pod addresses "
                f"on the node tier's bridge ({NODE_POD_NETWORK}, docs/node.md)"
            )


# The node tier's pod network: a bridge on this machine with no route out (tools/node.sh
# POD_CIDR). Load may go there; never to any other address, private or public.
NODE_POD_NETWORK = ipaddress.ip_network("10.244.0.0/24")


def _is_local(host: str) -> bool:
    """Loopback, or a pod's address on the node tier's bridge (docs/node.md)."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address in NODE_POD_NETWORK


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
            _reopen_if_closed(conn)
            _one_request(conn, n, tally, declared, labelled=load.labelled)
            ready = f"{target[0]}:{target[1]}" in tally.in_service
            if load.pause or not ready:
                stop.wait(load.pause if ready else max(load.pause, NOT_READY_PAUSE))
        for conn in conns.values():
            conn.close()

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(load.threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return tally


def _reopen_if_closed(conn: http.client.HTTPConnection) -> None:
    """Drop a kept-alive connection the server closed meanwhile (idle past its keep-alive
    timeout while this client waited on another target), so the request opens a new one: as
    urllib3 checks a pooled connection before reusing it. A request is never resent."""
    sock = conn.sock
    if sock is not None and select.select([sock], [], [], 0)[0]:
        conn.close()


def _one_request(
    conn: http.client.HTTPConnection,
    n: int,
    tally: Tally,
    declared: Declared | None,
    *,
    labelled: tuple[tuple[str, str], ...] = (),
) -> None:
    text, truth = labelled[n % len(labelled)] if labelled else (TEXTS[n % len(TEXTS)], None)
    headers = {"Content-Type": "application/json", "X-Request-Key": f"user-{n % 500}"}
    where = f"{conn.host}:{conn.port}"
    try:
        status, answer, version, arm = _post(conn, "/predict", {"input": text}, headers)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        tally.fail(where, type(exc).__name__)
        conn.close()
        return
    tally.record(where, status, version, arm, allowed=declared, key=headers["X-Request-Key"])
    if truth is not None and status == 200:
        _send_feedback(conn, answer, truth, tally, where)


def _post(
    conn: http.client.HTTPConnection, path: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any], str, str]:
    """POST a JSON body: (status, JSON answer, X-Model-Version, X-Model-Arm)."""
    conn.request("POST", path, body=json.dumps(body), headers=headers)
    response = conn.getresponse()
    raw = response.read()
    answer = json.loads(raw) if raw and response.status == 200 else {}
    version = response.getheader("X-Model-Version", "?")
    return response.status, answer, version, response.getheader("X-Model-Arm", "?")


def _send_feedback(
    conn: http.client.HTTPConnection, answer: dict[str, Any], truth: str, tally: Tally, where: str
) -> None:
    """Reward 1 when the answer is the true label, else 0, with the answer's signed token."""
    reward = 1.0 if answer.get("label") == truth else 0.0
    body = {"feedback_token": answer.get("feedback_token"), "reward": reward}
    headers = {"Content-Type": "application/json"}
    try:
        status, _, version, arm = _post(conn, "/feedback", body, headers)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        tally.fail(where, f"feedback {type(exc).__name__}")
        conn.close()
        return
    if status == 200:
        tally.reward(version, arm, reward)
    else:
        tally.fail(where, f"feedback HTTP {status}")


def labelled_texts(limit: int = 600) -> tuple[tuple[str, str], ...]:
    """(text, true label) rows of the shipped intent data, for feedback from the truth."""
    from hotswap.training import datasets

    data = datasets.load_text()
    return tuple(zip(data.inputs, data.labels, strict=True))[:limit]


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
