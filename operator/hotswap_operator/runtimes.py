"""What the operator process holds between handler calls: settings, clients, metrics, and a
wake-up flag per Canary so a change is acted on at once instead of at the next tick."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotswap_operator.apis import Apis
from hotswap_operator.configs import Config
from hotswap_operator.contexts import Context
from hotswap_operator.metrics import Metrics

CONSISTENCY_SECONDS = 5.0  # as kopf's settings.persistence.consistency_timeout


@dataclass(frozen=True)
class Written:
    """The body our last status write returned, awaited on the watch since `at`."""

    body: dict[str, Any]
    version: str  # its resourceVersion: opaque, compared for equality only
    at: float


@dataclass
class Runtime:
    config: Config
    apis: Apis
    metrics: Metrics
    wakers: dict[str, threading.Event] = field(default_factory=dict)
    latest: dict[str, Written] = field(default_factory=dict)  # uid -> our last write, awaited
    clock: Callable[[], float] = time.monotonic

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

    def remember(self, uid: str, body: dict[str, Any]) -> None:
        """Await `body` (what our last pass wrote, or was handed) on the watch. The same version
        again (a pass that wrote nothing) keeps the wait that began with the write."""
        version = version_of(body)
        mine = self.latest.get(uid)
        if mine is None or mine.version != version:
            self.latest[uid] = Written(body, version, self.clock())

    def newest(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        """The live body, or the one our last status write returned while the watch has not
        delivered it yet (kopf's "consistency"). resourceVersion is opaque, so it is compared
        for equality only: the wait ends when the watch shows our version, when the spec moved
        on (metadata.generation, a sequence number, is higher), or after CONSISTENCY_SECONDS."""
        mine = self.latest.get(uid)
        if mine is None:
            return body
        caught_up = version_of(body) == mine.version
        respecified = generation_of(body) > generation_of(mine.body)
        if caught_up or respecified or self.clock() - mine.at >= CONSISTENCY_SECONDS:
            del self.latest[uid]
            return body
        return mine.body


def version_of(body: dict[str, Any]) -> str:
    return str(body.get("metadata", {}).get("resourceVersion") or "")


def generation_of(body: dict[str, Any]) -> int:
    generation = body.get("metadata", {}).get("generation")
    return generation if isinstance(generation, int) else 0
