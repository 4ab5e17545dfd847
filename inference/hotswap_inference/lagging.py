"""The loop-lag probe: how late the event loop runs a timer, measured inside the process.

A task sleeps `INTERVAL` seconds again and again; how much later than asked it wakes is time
the loop could run nothing: a long callback, another thread holding the GIL (a reload, a
collection), or the process descheduled. Every lag is observed in
`hotswap_inference_loop_lag_seconds{during}`: `reload` when the sleep overlapped a reload (from
its start to the end of its heap freeze), else `steady`. The longest lag of the last reload is
`hotswap_inference_reload_loop_lag_max_seconds{part="wall"}`; `part="threads"` is the longest
part of a lag that this process's other threads ran meanwhile (their CPU time during the sleep
beyond the sleep itself): the GIL held by a reload, not the machine. On shared cores a process
that is not scheduled lags as long on both loops; `threads` leaves that out. One timer per
`INTERVAL` costs the loop a few microseconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hotswap_inference.metrics import Metrics

INTERVAL = 0.01  # seconds between two wake-ups: a stall shows within this of its start
RELOAD, STEADY = "reload", "steady"
WALL, THREADS = "wall", "threads"

Overlaps = Callable[[float], bool]  # did a reload run at any time since this moment?


class LagProbe:
    """Observes each lag; keeps the longest one of the reload in progress until it ends."""

    def __init__(self, metrics: Metrics, *, model: str, overlaps: Overlaps) -> None:
        self.overlaps = overlaps
        self.during = {
            during: metrics.loop_lag.labels(model, during) for during in (RELOAD, STEADY)
        }
        self.reload_max = {
            part: metrics.reload_loop_lag_max.labels(model, part) for part in (WALL, THREADS)
        }
        self.worst: dict[str, float] | None = None  # of the reload in progress, by part

    def observe(self, slept_at: float, lag: float, *, threads: float = 0.0) -> None:
        """One wake-up `lag` seconds late, of a sleep that began at `slept_at` (monotonic);
        `threads` of it ran other threads of this process."""
        if self.overlaps(slept_at):
            self.during[RELOAD].observe(lag)
            worst = self.worst or {WALL: 0.0, THREADS: 0.0}
            self.worst = {WALL: max(lag, worst[WALL]), THREADS: max(threads, worst[THREADS])}
            return
        self.during[STEADY].observe(lag)
        if self.worst is not None:  # the reload ended before this sleep began
            for part, value in self.worst.items():
                self.reload_max[part].set(value)
            self.worst = None


async def watch(probe: LagProbe, *, interval: float = INTERVAL) -> None:
    """Sleep `interval`, observe how late the loop woke, again, until cancelled."""
    while True:
        slept_at, process, own = time.monotonic(), time.process_time(), time.thread_time()
        await asyncio.sleep(interval)
        lag = max(0.0, time.monotonic() - slept_at - interval)
        others = time.process_time() - process - (time.thread_time() - own)
        probe.observe(slept_at, lag, threads=min(lag, max(0.0, others - interval)))
