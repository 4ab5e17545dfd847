"""Where a prediction runs: a verified fast path inline on the event loop, sklearn in the pool.

A fast predictor's own answer is numpy and plain Python, tens of microseconds for one input:
less than the hop to a worker thread and back. It runs inline while the request is small
(`MAX_INLINE_ITEMS` inputs, `MAX_INLINE_CHARS` characters of text), so a large batch never
holds the loop for long. The plain pipeline (an `sklearn` predictor, or a fast predictor that
hands an input back) always runs in the threadpool: sklearn never blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hotswap_inference.predictors import Predictions
from hotswap_inference.states import Served

SKLEARN = "sklearn"
MAX_INLINE_ITEMS = 8  # a forest row costs ~50 us, a short text ~15-20 us
MAX_INLINE_CHARS = 2_000  # text costs ~0.1 us per character (the analyzer)


def fits_inline(served: Served, items: Sequence[Any]) -> bool:
    """Whether `served` may answer `items` on the event loop: a fast path and a small request."""
    if served.kind == SKLEARN or len(items) > MAX_INLINE_ITEMS:
        return False
    return sum([len(item) for item in items if isinstance(item, str)]) <= MAX_INLINE_CHARS


def answer_inline(served: Served, items: Sequence[Any]) -> Predictions | None:
    """A fast path's own answer when `items` may run on the loop, else None (the pool's)."""
    if not fits_inline(served, items):
        return None
    return served.predictor.predict_own(items)
