"""The loop-lag probe: how late the event loop runs a timer, measured inside the process.

A task sleeps `INTERVAL` seconds again and again; how much later than asked it wakes is time
the loop could run nothing: a long callback, another thread holding the GIL (a reload, a
collection), or the process descheduled. Every lag is observed in
`hotswap_inference_loop_lag_seconds{during}`: `reload` when the sleep overlapped a reload (from
its start to the end of its heap freeze), else `steady`. The longest lag of the last reload is
`hotswap_inference_reload_loop_lag_max_seconds{part="wall"}`; `part="threads"` is the longest
part of a lag that this process's other threads ran meanwhile (their CPU time during the sleep
beyond the sleep itself, so a lower bound: what they ran within the sleep counts nothing): the
GIL held by a reload, not the machine. On shared cores a process that is not scheduled lags as
long on both loops; `threads` leaves that out.

The probe wakes every `INTERVAL` (10 ms) around a reload: from `hurry()` (the reloader calls it
through the loop when a reload starts, whoever asked for it) to `STEADY_INTERVAL` after the
reload ended;
otherwise every `STEADY_INTERVAL` (100 ms). Each wake-up of an idle process costs ~0.3 ms of
CPU on a small VM (the kernel's timer and scheduler, not Python): at 10 ms for good that was
28 of the 32 ms of CPU an idle pod spent per second (docs/inference.md).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from hotswap_inference.metrics import Metrics

INTERVAL = 0.01  # seconds between two wake-ups around a reload: a stall shows within this
STEADY_INTERVAL = 0.1  # seconds between two wake-ups otherwise
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
        self.fast_until = -math.inf  # monotonic: `hurry` asked for the short interval until then
        self._waiter: asyncio.Future[bool] | None = None  # the sleep in progress

    def hurry(self, seconds: float = STEADY_INTERVAL) -> None:
        """A reload may start now: end the sleep in progress and wake every `INTERVAL` for
        `seconds` at least (then for as long as a reload runs). Called on the event loop."""
        self.fast_until = max(self.fast_until, time.monotonic() + seconds)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(True)

    def interval(self, now: float) -> float:
        """The next sleep: short when hurried, during a reload and `STEADY_INTERVAL` after it."""
        close = now < self.fast_until or self.overlaps(now - STEADY_INTERVAL)
        return INTERVAL if close else STEADY_INTERVAL

    async def pause(self, seconds: float) -> bool:
        """Sleep `seconds` (as `asyncio.sleep`); True when `hurry` ended it sooner."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiter = waiter
        timer = loop.call_later(seconds, _wake, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None

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


def _wake(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


async def watch(probe: LagProbe) -> None:
    """Sleep the probe's interval, observe how late the loop woke, again, until cancelled; a
    sleep `hurry` ended sooner has no lateness to observe."""
    while True:
        slept_at, process, own = time.monotonic(), time.process_time(), time.thread_time()
        interval = probe.interval(slept_at)
        if await probe.pause(interval):
            continue
        lag = max(0.0, time.monotonic() - slept_at - interval)
        others = time.process_time() - process - (time.thread_time() - own)
        probe.observe(slept_at, lag, threads=min(lag, max(0.0, others - interval)))
