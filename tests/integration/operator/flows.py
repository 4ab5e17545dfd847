"""Given / When / Then helpers for the operator's integration tests (Argo Rollouts' e2e idiom):
apply objects, wait for a condition or a status, read what pods serve."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from kubernetes import client

GROUP, VERSION = "hotswap.dev", "v1alpha1"
TOKEN = "integration-reload-token"
MODEL = "intent"
LABELS = {"app": "hotswap-inference", "hotswap.dev/model": MODEL}


class Cluster:
    """The objects of one test namespace, as the admin."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.custom = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)
        self.namespace = namespace

    def create(self, plural: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(
            self.custom.create_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, body
            )
        )

    def get(self, plural: str, name: str) -> dict[str, Any]:
        return dict(
            self.custom.get_namespaced_custom_object(GROUP, VERSION, self.namespace, plural, name)
        )

    def patch(self, plural: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(
            self.custom.patch_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, name, body
            )
        )

    def delete(self, plural: str, name: str) -> None:
        try:
            self.custom.delete_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, name
            )
        except client.ApiException as exc:
            if exc.status != 404:
                raise

    def events_for(self, name: str) -> list[tuple[str, str, str]]:
        found = self.core.list_namespaced_event(
            self.namespace, field_selector=f"involvedObject.name={name}"
        )
        return [(e.type, e.reason, e.message) for e in found.items]


def eventually(check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.2) -> Any:
    """The first truthy result of `check`, polled; fails naming `what` and the last result."""
    return until(lambda: (bool(found := check()), found), timeout=timeout, what=what, every=every)


def until(
    check: Callable[[], tuple[bool, Any]], *, timeout: float, what: str, every: float = 0.2
) -> Any:
    """`check` returns (done, seen): the seen value once done; else fails showing the last."""
    deadline = time.monotonic() + timeout
    seen: Any = None
    while time.monotonic() < deadline:
        done, seen = check()
        if done:
            return seen
        time.sleep(every)
    raise AssertionError(f"expected {what} within {timeout:.0f}s; last saw {seen!r}")


def condition(body: dict[str, Any], kind: str) -> dict[str, Any]:
    for found in (body.get("status") or {}).get("conditions") or []:
        if found.get("type") == kind:
            return dict(found)
    return {}


def wait_for_condition(
    cluster: Cluster,
    plural: str,
    name: str,
    kind: str,
    *,
    status: str = "True",
    reason: str | None = None,
    timeout: float = 60,
) -> dict[str, Any]:
    def check() -> Any:
        body = cluster.get(plural, name)
        found = condition(body, kind)
        ok = found.get("status") == status and (reason is None or found.get("reason") == reason)
        ok = ok and found.get("observedGeneration") == body["metadata"]["generation"]
        return ok, body if ok else _brief(body.get("status") or {})

    body = until(check, timeout=timeout, what=f"{plural}/{name} {kind}={status} ({reason})")
    return dict(body)


def wait_for_status(
    cluster: Cluster,
    name: str,
    predicate: Callable[[dict[str, Any]], bool],
    *,
    what: str,
    timeout: float = 60,
) -> dict[str, Any]:
    def check() -> Any:
        status = cluster.get("canaries", name).get("status") or {}
        done = bool(predicate(status))
        return done, status if done else _brief(status)

    return dict(until(check, timeout=timeout, what=what))


def _brief(status: dict[str, Any]) -> dict[str, Any]:
    keys = ("stableVersion", "canaryVersion", "weight", "currentStep", "convergedPods", "totalPods")
    brief = {k: status.get(k) for k in keys}
    brief["conditions"] = [
        (c.get("type"), c.get("status"), c.get("reason"), c.get("message"))
        for c in status.get("conditions") or []
    ]
    return brief


def admin_status(ip: str, port: int) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://{ip}:{port}/admin/status", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return dict(json.loads(response.read()))


def predict(ip: str, port: int, text: str = "I want to book a flight") -> tuple[int, str, str]:
    """(HTTP status, X-Model-Version, X-Model-Arm) of one prediction."""
    body = json.dumps({"input": text}).encode()
    request = urllib.request.Request(
        f"http://{ip}:{port}/predict", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            headers = response.headers
            return (
                response.status,
                headers.get("X-Model-Version", ""),
                headers.get("X-Model-Arm", ""),
            )
    except urllib.error.HTTPError as exc:
        return exc.code, "", ""
