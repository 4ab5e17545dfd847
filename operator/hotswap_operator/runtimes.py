"""What the operator process holds between handler calls: settings, clients, metrics, and a
wake-up flag per Canary so a change is acted on at once instead of at the next tick."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from hotswap_operator.apis import Apis
from hotswap_operator.configs import Config
from hotswap_operator.contexts import Context
from hotswap_operator.metrics import Metrics


@dataclass
class Runtime:
    config: Config
    apis: Apis
    metrics: Metrics
    wakers: dict[str, threading.Event] = field(default_factory=dict)
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> last body written

    def context(self, namespace: str, name: str) -> Context:
        return Context(self.apis, self.config, self.metrics, namespace, name)

    def waker(self, uid: str) -> threading.Event:
        return self.wakers.setdefault(uid, threading.Event())

    def wake(self, uid: str) -> None:
        self.waker(uid).set()

    def sleep(self, uid: str) -> None:
        """Until woken or a tick passes."""
        waker = self.waker(uid)
        waker.wait(self.config.tick_seconds)
        waker.clear()

    def forget(self, uid: str) -> None:
        self.wakers.pop(uid, None)
        self.latest.pop(uid, None)

    def newest(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        """The live body, or the one our last status patch returned if that is newer (the
        watch may not have delivered our own write yet)."""
        mine = self.latest.get(uid)
        if mine is None or version_of(body) >= version_of(mine):
            return body
        return mine


def version_of(body: dict[str, Any]) -> int:
    raw = str(body.get("metadata", {}).get("resourceVersion") or "0")
    return int(raw) if raw.isdigit() else 0
