"""The reload protocol, client side: `POST /admin/reload` and `GET /admin/status` on pods' admin
addresses with the bearer token, each answer read as the typed `PodReport` (`reports`).

Standard library only, so anything that imports the store can signal pods: `hotswap local`
does, on one machine without a cluster. Requests go out in parallel (bounded); a pod that does
not answer is reported, never waited for past the timeout.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hotswap.store.errors import IntegrityError
from hotswap.store.reports import PodReport
from hotswap.store.routes import Routing

RELOAD, STATUS = "/admin/reload", "/admin/status"
MAX_PARALLEL = 16


@dataclass(frozen=True)
class Address:
    """A pod's admin address, `host:port` (port 8001 unless the pod was started otherwise)."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> Address:
        host, _, port = text.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                f"admin address {text!r} is not host:port: give e.g. 127.0.0.1:8001 "
                "(the pod's --admin-port)"
            )
        return cls(host, int(port))


@dataclass(frozen=True)
class Reply:
    address: Address
    code: int  # HTTP status; 0 when the pod could not be reached
    body: dict[str, Any]
    error: str | None = None

    @property
    def report(self) -> PodReport | None:
        """The pod's report, when it answered 200 with a well-formed one."""
        return report_of(self.code, self.body)

    def reports(self, routing: Routing) -> bool:
        """The pod serves exactly `routing` (its generation, versions and weight)."""
        report = self.report
        return report is not None and report.reports(routing)


def report_of(code: int, body: dict[str, Any]) -> PodReport | None:
    """A status or reload answer read as a `PodReport`; None unless a well-formed 200."""
    if code != 200:
        return None
    try:
        return PodReport.from_dict(body)
    except (IntegrityError, ValueError):
        return None


def reload_pods(
    addresses: Sequence[Address], routing: Routing, *, model: str, token: str, timeout: float
) -> list[Reply]:
    """POST the routing (its `to_dict()` plus `model`) to every pod; replies in order."""
    data = json.dumps(routing.to_dict() | {"model": model}).encode()
    return _each(addresses, RELOAD, data, token, timeout)


def read_pods(addresses: Sequence[Address], *, token: str, timeout: float) -> list[Reply]:
    """GET every pod's status; replies in order."""
    return _each(addresses, STATUS, None, token, timeout)


def _each(
    addresses: Sequence[Address], path: str, data: bytes | None, token: str, timeout: float
) -> list[Reply]:
    if not addresses:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(addresses))) as pool:
        return list(
            pool.map(lambda a: call(a, path, data, token=token, timeout=timeout), addresses)
        )


def call(address: Address, path: str, data: bytes | None, *, token: str, timeout: float) -> Reply:
    request = urllib.request.Request(
        f"http://{address}{path}",
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(address, response.status, parse(response.read()))
    except urllib.error.HTTPError as exc:
        body = parse(exc.read())
        exc.close()
        return Reply(address, exc.code, body, error=f"HTTP {exc.code}: {describe(body)}")
    except (OSError, ValueError) as exc:
        return Reply(address, 0, {}, error=f"unreachable at {address}: {exc}")


def parse(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return {"error": raw[:200].decode(errors="replace")}
    return body if isinstance(body, dict) else {"body": body}


def describe(body: dict[str, Any]) -> str:
    return str(body.get("reason") or body.get("message") or body.get("error") or body)
