"""Feedback: a reward in [0, 1] for an earlier prediction, credited once to its version and arm.

The body is `{"feedback_token": "<from the prediction response>", "reward": 0..1}`; the
version and arm come from the signed token (`signing`), never from the client. A pod credits a
token once: `SpentTokens` remembers every token it credited until the token expires. Pods
share no state, so across N pods one token can be credited at most once per pod.
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from hotswap_inference import inputs
from hotswap_inference.errors import BadInput, FeedbackTokenExpired, FeedbackTokenReplayed
from hotswap_inference.signing import Claim

MAX_SPENT = 100_000  # ~200 bytes each
MAX_TOKEN_CHARS = 1024
EXAMPLE = '{"feedback_token": "<from the prediction response>", "reward": 1}'


@dataclass(frozen=True)
class Feedback:
    token: str
    reward: float


def parse_feedback(body: Any) -> Feedback:
    if not isinstance(body, dict):
        raise BadInput("body", f"must be a JSON object: {EXAMPLE}")
    token: Any = body.get("feedback_token")
    reward: Any = body.get("reward")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
        why = "; a request_id alone is not credited" if "request_id" in body else ""
        raise BadInput(
            "feedback_token", f"must be the feedback_token of a prediction response{why}"
        )
    if not inputs.is_number(reward) or not 0 <= reward <= 1:
        raise BadInput("reward", f"must be a number from 0 to 1, got {reward!r}")
    return Feedback(token, float(reward))


class SpentTokens:
    """The tokens credited here, kept until they expire; at most `cap` of them.

    Past the cap the earliest-issued token is forgotten and `horizon` moves up to its issue
    time: every token issued at or before the horizon is refused from then on. A token is so
    never credited twice; a flood of feedback only narrows the window of the oldest tokens.
    """

    def __init__(self, *, ttl_seconds: float, cap: int = MAX_SPENT) -> None:
        self.ttl_seconds = ttl_seconds
        self.cap = cap
        self.horizon = -math.inf
        self._spent: set[str] = set()
        self._by_issue: list[tuple[int, str]] = []  # a heap: earliest issued first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._spent)

    def spend(self, claim: Claim, *, now: float | None = None) -> None:
        """Remember `claim` as credited; refuse one credited before or older than remembered."""
        with self._lock:
            self._forget_expired(time.time() if now is None else now)
            if claim.issued <= self.horizon:
                raise FeedbackTokenExpired(
                    "feedback_token is older than this pod remembers (too much feedback "
                    "within HOTSWAP_FEEDBACK_TTL_SECONDS): send feedback sooner"
                )
            if claim.mac in self._spent:
                raise FeedbackTokenReplayed(
                    f"feedback for request {claim.request_id!r} was already credited: "
                    "each prediction is credited once"
                )
            if len(self._spent) >= self.cap:
                self._forget_earliest()
            self._spent.add(claim.mac)
            heapq.heappush(self._by_issue, (claim.issued, claim.mac))

    def _forget_expired(self, now: float) -> None:
        while self._by_issue and now - self._by_issue[0][0] > self.ttl_seconds:
            self._forget_earliest()

    def _forget_earliest(self) -> None:
        issued, mac = heapq.heappop(self._by_issue)
        self._spent.discard(mac)
        self.horizon = max(self.horizon, issued)
