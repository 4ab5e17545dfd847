"""The polling fallback: read routing.json (else `current`) every interval, apply when newer.

A pod that missed a POST, or started later, converges by itself. A failing poll is logged and
retried at the next interval; the watcher never dies.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from hotswap_inference.reloading import Reloader

logger = logging.getLogger("hotswap.inference")


async def poll_once(reloader: Reloader) -> None:
    try:
        outcome = await run_in_threadpool(reloader.poll)
    except Exception as exc:  # a malformed routing.json, an unreadable volume: log, go on
        logger.warning("polling the store of %s failed: %s", reloader.model, exc)
        return
    if outcome is not None:
        logger.info("poll: %s generation %s", outcome, reloader.state and reloader.state.generation)
    elif reloader.last_error:
        logger.debug("poll: last error %s", reloader.last_error)


async def watch(reloader: Reloader, *, interval: float) -> None:
    """Poll now, then every `interval` seconds, until cancelled."""
    while True:
        await poll_once(reloader)
        await asyncio.sleep(interval)
