"""The loop-lag probe: how late the event loop runs a timer, measured inside the process.

A task sleeps `INTERVAL` seconds again and again; how much later than asked it wakes is time
the loop could run nothing: a long callback, another thread holding the GIL (a reload, a
collection), or the process descheduled. Every lag is observed in
`hotswap_inference_loop_lag_seconds{during}`: `reload` when the sleep overlapped a reload (from
its start to the end of its heap freeze), else `steady`. The longest lag of the last reload is
`hotswap_inference_reload_loop_lag_max_seconds`. One timer per `INTERVAL` costs the loop a few
microseconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hotswap_inference.metrics import Metrics

INTERVAL = 0.01  # seconds between two wake-ups: a stall shows within this of its start
RELOAD, STEADY = "reload", "steady"

Overlaps = Callable[[float], bool]  # did a reload run at any time since this moment?


class LagProbe:
    """Observes each lag; keeps the longest one of the reload in progress until it ends."""

    def __init__(self, metrics: Metrics, *, model: str, overlaps: Overlaps) -> None:
        self.overlaps = overlaps
        self.during = {
            during: metrics.loop_lag.labels(model, during) for during in (RELOAD, STEADY)
        }
        self.reload_max = metrics.reload_loop_lag_max.labels(model)
        self.worst: float | None = None  # of the reload in progress

    def observe(self, slept_at: float, lag: float) -> None:
        """One wake-up `lag` seconds late, of a sleep that began at `slept_at` (monotonic)."""
        if self.overlaps(slept_at):
            self.during[RELOAD].observe(lag)
            self.worst = max(lag, self.worst or 0.0)
            return
        self.during[STEADY].observe(lag)
        if self.worst is not None:  # the reload ended before this sleep began
            self.reload_max.set(self.worst)
            self.worst = None


async def watch(probe: LagProbe, *, interval: float = INTERVAL) -> None:
    """Sleep `interval`, observe how late the loop woke, again, until cancelled."""
    while True:
        slept_at = time.monotonic()
        await asyncio.sleep(interval)
        probe.observe(slept_at, max(0.0, time.monotonic() - slept_at - interval))
