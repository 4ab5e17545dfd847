"""The stable/canary split: sticky by request key, random without one.

A key's bucket is a hash of (model, key) in [0, 10000); the canary answers when the bucket is
below weight * 100. The hash is the same on every pod and after restarts, and raising the
weight only moves keys from stable to canary, never back.
"""

from __future__ import annotations

import hashlib
import random

BUCKETS = 10_000
STABLE = "stable"
CANARY = "canary"


def bucket_of(model: str, key: str) -> int:
    digest = hashlib.sha256(f"{model}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def choose_arm(model: str, key: str | None, *, weight: int) -> str:
    """`canary` or `stable` for one request; `key` None means a random draw."""
    if weight <= 0:
        return STABLE
    if weight >= 100:
        return CANARY
    # random() is C; randrange is Python code (a tenth of the split's cost per request)
    bucket = int(random.random() * BUCKETS) if key is None else bucket_of(model, key)
    return CANARY if bucket < weight * 100 else STABLE


def should_mirror(percent: int) -> bool:
    """Whether one stable request is also predicted by the canary, off the request path."""
    return percent > 0 and random.random() * 100 < percent
