"""Optional guards of the serving endpoints: API keys and a per-client token bucket.

Keys come as `Authorization: Bearer <key>` or `X-API-Key: <key>`, compared in constant time.
Wrong keys are limited per client address (`key_failures` a minute, then 429 with
`Retry-After`, even for the right key, so guessing online stays slow). The rate limit keys on
the API key when there is one, else on the client address. The client address is the peer's,
or X-Forwarded-For's from a trusted proxy (`Settings.trusted_proxies`, uvicorn's middleware).
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections import OrderedDict

from starlette.requests import Request

from hotswap_inference.errors import RateLimited, Unauthorized

MAX_CLIENTS = 10_000


def presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def matches_any(presented: str, keys: tuple[str, ...]) -> bool:
    """Constant time per key; every key is compared, so timing does not tell which matched."""
    given = presented.encode()
    found = False
    for key in keys:
        found |= hmac.compare_digest(given, key.encode())
    return found


def check_key(presented: str | None, keys: tuple[str, ...]) -> None:
    if presented is None:
        raise Unauthorized("an API key is required: send Authorization: Bearer <key> or X-API-Key")
    if not matches_any(presented, keys):
        raise Unauthorized("the API key is not valid: check the key you were given")


class TokenBuckets:
    """`rate` tokens per second per client, up to `burst`; oldest clients forgotten."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, *, cost: float = 1.0) -> int | None:
        """Spend `cost` tokens; the seconds to wait when `client` had less than one, else None.

        `cost=0` only asks whether `client` may go on."""
        with self._lock:
            now = time.monotonic()
            tokens, last = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if len(self._buckets) >= MAX_CLIENTS:
                self._buckets.popitem(last=False)
            self._buckets[client] = (max(tokens - cost, 0.0), now)
        if tokens < 1.0:
            return max(1, math.ceil((1.0 - tokens) / self.rate))
        return None


class Guard:
    def __init__(
        self, keys: tuple[str, ...], *, rate: float, burst: int, key_failures: int = 0
    ) -> None:
        self.keys = keys
        self.buckets = TokenBuckets(rate, burst) if rate > 0 else None
        limited = keys and key_failures > 0
        self.failures = TokenBuckets(key_failures / 60, key_failures) if limited else None

    @property
    def enabled(self) -> bool:
        return bool(self.keys) or self.buckets is not None

    def check(self, request: Request) -> None:
        if not self.enabled:
            return  # both guards off: nothing to read
        presented = presented_key(request)
        client = request.client.host if request.client else "unknown"
        if self.keys:
            self.check_key(presented, client)
        if self.buckets is not None:
            retry = self.buckets.take(f"key:{presented}" if self.keys else f"addr:{client}")
            if retry is not None:
                raise RateLimited(
                    f"more than {self.buckets.rate:g} requests per second: retry after {retry} s",
                    retry_after=retry,
                )

    def check_key(self, presented: str | None, client: str) -> None:
        """The key check, refused for `client` while it has sent too many wrong keys."""
        if self.failures is not None:
            self.refuse_guessing(client, cost=0.0)
        try:
            check_key(presented, self.keys)
        except Unauthorized:
            if self.failures is not None and presented is not None:
                self.refuse_guessing(client, cost=1.0)
            raise

    def refuse_guessing(self, client: str, *, cost: float) -> None:
        assert self.failures is not None
        retry = self.failures.take(client, cost=cost)
        if retry is not None:
            raise RateLimited(
                f"too many wrong API keys from {client} (more than {self.failures.burst} a "
                f"minute): retry after {retry} s with a valid key",
                retry_after=retry,
            )
