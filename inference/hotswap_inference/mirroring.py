"""Mirrored traffic: the canary also predicts a share of stable requests, off the request path.

A bounded queue feeds one background thread; when the queue is full the mirror is dropped
(counted), so a slow canary never slows stable answers. Results are logged, never returned.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hotswap_inference.metrics import Metrics
from hotswap_inference.predictors import Predictions
from hotswap_inference.states import Served

Log = Callable[[Served, str, list[Any], Predictions, float], None]


@dataclass(frozen=True)
class Shadow:
    served: Served
    request_id: str
    items: list[Any]


class Mirror:
    def __init__(self, model: str, *, metrics: Metrics, log: Log, maxsize: int = 256) -> None:
        self.model = model
        self.metrics = metrics
        self.log = log
        self._queue: queue.Queue[Shadow | None] = queue.Queue(maxsize=maxsize)
        self._thread = threading.Thread(target=self._run, name="hotswap-mirror", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=10)

    def submit(self, shadow: Shadow) -> None:
        try:
            self._queue.put_nowait(shadow)
        except queue.Full:
            self._count(shadow, "dropped")

    def _run(self) -> None:
        while (shadow := self._queue.get()) is not None:
            self._predict(shadow)

    def _predict(self, shadow: Shadow) -> None:
        started = time.perf_counter()
        try:
            predictions = shadow.served.predictor.predict(shadow.items)
        except Exception:
            self._count(shadow, "error")
            return
        self._count(shadow, "ok")
        latency = time.perf_counter() - started
        self.log(shadow.served, shadow.request_id, shadow.items, predictions, latency)

    def _count(self, shadow: Shadow, outcome: str) -> None:
        self.metrics.mirrored.labels(self.model, shadow.served.version, outcome).inc()
