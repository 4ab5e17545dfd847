"""The polling fallback: read routing.json (else `current`) every interval, apply when newer.

A pod that missed a POST, or started later, converges by itself. A poll that cannot read
routing.json or `current` is kept as `lastError` (GET /admin/status) and logged at WARNING once
per distinct failure; a load it tried that failed is logged at WARNING once per attempt. Both
are retried; the watcher never dies.
"""

from __future__ import annotations

import asyncio
import logging

from hotswap_inference import preparing
from hotswap_inference.reloading import Reloader

logger = logging.getLogger("hotswap.inference")


async def poll_once(reloader: Reloader) -> None:
    before = reloader.last_error
    try:
        outcome = await reloader.in_thread(reloader.poll)
    except Exception as exc:  # a malformed routing.json, an unreadable volume: record, go on
        reloader.record_poll_failure(exc)
        repeated = before is not None and before.reason == preparing.describe_error(exc)
        level = logging.DEBUG if repeated else logging.WARNING  # once per distinct failure
        logger.log(level, "polling the store of %s failed: %s", reloader.model, exc)
        return
    if outcome is not None:
        logger.info("poll: %s generation %s", outcome, reloader.state and reloader.state.generation)
    elif reloader.last_error is not None and reloader.last_error is not before:
        failure = reloader.last_error  # a load this poll tried (retried every 30 s) failed
        logger.warning(
            "poll: routing generation %s of %s did not load: %s (kept as lastError)",
            failure.generation,
            reloader.model,
            failure.describe(),
        )


async def watch(reloader: Reloader, *, interval: float) -> None:
    """Poll now, then every `interval` seconds, until cancelled."""
    while True:
        await poll_once(reloader)
        await asyncio.sleep(interval)
