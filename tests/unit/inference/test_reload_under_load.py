"""50 reloads through POST /admin/reload while clients predict: no request fails."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from hotswap.store import publishing, routes

from . import models, pods
from .conftest import MakePod

CLIENTS = 3
MAX_REQUESTS_PER_CLIENT = 3_000
MAX_SECONDS = 120.0
RELOADS = 50


def send_traffic(url: str, stop: threading.Event, seen: list[tuple[int, str]]) -> None:
    """Predict until `stop` (bounded in count and time); record status and version."""
    deadline = time.monotonic() + MAX_SECONDS
    with httpx.Client(timeout=30) as client:
        for i in range(MAX_REQUESTS_PER_CLIENT):
            if stop.is_set() or time.monotonic() > deadline:
                return
            response = client.post(f"{url}/predict", json={"input": f"where is parcel {i}"})
            seen.append((response.status_code, response.headers.get("X-Model-Version", "")))


def test_fifty_reloads_under_load_fail_no_request(
    make_pod: MakePod, root: Path, two_versions: tuple[publishing.Published, ...]
) -> None:
    first, second = two_versions
    models.write_routing(root, first, generation=1)
    pod = make_pod()
    stop, seen = threading.Event(), list[tuple[int, str]]()
    clients = [
        threading.Thread(target=send_traffic, args=(pod.url, stop, seen)) for _ in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    try:
        outcomes = []
        for i in range(RELOADS):
            outcomes.append(reload_to(pod, (first, second)[i % 2], 2 + i))
            wait_for_traffic(seen, more=10)
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=60)
    assert outcomes == [200] * RELOADS, f"expected every reload to answer 200, saw {outcomes}"
    failed = [s for s, _ in seen if s != 200]
    versions = {v for _, v in seen}
    assert seen, "expected the clients to send requests during the reloads"
    assert not failed, f"expected 0 failed requests out of {len(seen)}, saw {len(failed)}"
    declared = {first.version, second.version}
    assert versions == declared, f"expected both declared versions {declared}, saw {versions}"
    print(f"{len(seen)} requests during {RELOADS} reloads")


def wait_for_traffic(seen: list[tuple[int, str]], *, more: int) -> None:
    """Let some requests land between two reloads (at most one second)."""
    target, deadline = len(seen) + more, time.monotonic() + 1.0
    while len(seen) < target and time.monotonic() < deadline:
        time.sleep(0.005)


def reload_to(pod: pods.Pod, version: publishing.Published, generation: int) -> int:
    routing = routes.Routing(stable=models.arm(version), generation=generation)
    response = pod.admin("POST", "/admin/reload", json=models.reload_body(routing))
    return response.status_code
