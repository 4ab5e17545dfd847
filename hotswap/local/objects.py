"""The Hotswap objects (ModelVersions, Canaries) and Events of one namespace, and waiting
for their status: what the demo, the benchmark and the tests read and write as the admin."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubernetes import client

from hotswap import resources


class Namespace:
    """Custom objects of one namespace, by plural (`modelversions`, `canaries`)."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.custom = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)
        self.namespace = namespace

    def _call(self, method: Callable[..., Any], *args: Any) -> dict[str, Any]:
        return dict(method(resources.GROUP, resources.VERSION, self.namespace, *args))

    def create(self, plural: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call(self.custom.create_namespaced_custom_object, plural, body)

    def get(self, plural: str, name: str) -> dict[str, Any]:
        return self._call(self.custom.get_namespaced_custom_object, plural, name)

    def patch(self, plural: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call(self.custom.patch_namespaced_custom_object, plural, name, body)

    def list_objects(self, plural: str) -> list[dict[str, Any]]:
        return list(self._call(self.custom.list_namespaced_custom_object, plural)["items"])

    def delete(self, plural: str, name: str) -> None:
        try:
            self._call(self.custom.delete_namespaced_custom_object, plural, name)
        except client.ApiException as exc:
            if exc.status != 404:
                raise

    def events_for(self, name: str) -> list[tuple[str, str, str]]:
        found = self.core.list_namespaced_event(
            self.namespace, field_selector=f"involvedObject.name={name}"
        )
        return [(str(e.type), str(e.reason), str(e.message)) for e in found.items]


def canary_manifest(
    name: str, *, model: str, version: str, labels: dict[str, str], **spec: Any
) -> dict[str, Any]:
    """A Canary of `model` at ModelVersion `version`, selecting pods by `labels`."""
    return resources.canary(name, model=model, version=version, labels=labels, **spec)


class NotYet(TimeoutError):
    """A wait ran out; the message names what was expected and what was last seen."""


def until(
    check: Callable[[], tuple[bool, Any]], *, timeout: float, what: str, every: float = 0.2
) -> Any:
    """`check` returns (done, seen): the seen value once done; else NotYet showing the last."""
    deadline = time.monotonic() + timeout
    seen: Any = None
    while time.monotonic() < deadline:
        done, seen = check()
        if done:
            return seen
        time.sleep(every)
    raise NotYet(f"expected {what} within {timeout:.0f}s; last saw {seen!r}")


def eventually(check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.2) -> Any:
    """The first truthy result of `check`, polled; NotYet naming `what` and the last result."""
    return until(lambda: (bool(found := check()), found), timeout=timeout, what=what, every=every)


def condition(body: dict[str, Any], kind: str) -> dict[str, Any]:
    for found in (body.get("status") or {}).get("conditions") or []:
        if found.get("type") == kind:
            return dict(found)
    return {}


def has_condition(status: dict[str, Any], kind: str, reason: str, value: str = "True") -> bool:
    """Whether a status carries condition `kind` at `value` for `reason`."""
    found = condition({"status": status}, kind)
    return found.get("status") == value and found.get("reason") == reason


def wait_for_condition(
    objects: Namespace,
    plural: str,
    name: str,
    kind: str,
    *,
    status: str = "True",
    reason: str | None = None,
    timeout: float = 60,
    every: float = 0.2,
) -> dict[str, Any]:
    """The object once condition `kind` has `status` (and `reason`) for its generation."""

    def check() -> tuple[bool, Any]:
        body = objects.get(plural, name)
        found = condition(body, kind)
        ok = found.get("status") == status and (reason is None or found.get("reason") == reason)
        ok = ok and found.get("observedGeneration") == body["metadata"]["generation"]
        return ok, body if ok else brief(body.get("status") or {})

    what = f"{plural}/{name} {kind}={status} ({reason})"
    return dict(until(check, timeout=timeout, what=what, every=every))


def wait_for_status(
    objects: Namespace,
    name: str,
    predicate: Callable[[dict[str, Any]], bool],
    *,
    what: str,
    timeout: float = 60,
) -> dict[str, Any]:
    """A Canary's status once `predicate` holds for it."""

    def check() -> tuple[bool, Any]:
        status = objects.get(resources.CANARIES, name).get("status") or {}
        done = bool(predicate(status))
        return done, status if done else brief(status)

    return dict(until(check, timeout=timeout, what=what))


def brief(status: dict[str, Any]) -> dict[str, Any]:
    keys = ("stableVersion", "canaryVersion", "weight", "currentStep", "convergedPods", "totalPods")
    found = {k: status.get(k) for k in keys}
    found["conditions"] = [
        (c.get("type"), c.get("status"), c.get("reason"), c.get("message"))
        for c in status.get("conditions") or []
    ]
    return found
