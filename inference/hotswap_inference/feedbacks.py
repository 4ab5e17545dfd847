"""Feedback: a reward in [0, 1] for an earlier prediction, credited to its version and arm.

The pod remembers the version and arm of its recent request ids; a request answered by
another pod is credited through the `model_version` and `arm` the client echoes back.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from hotswap_inference import inputs, splitting
from hotswap_inference.errors import BadInput, NotFound

REMEMBERED = 100_000


@dataclass(frozen=True)
class Feedback:
    request_id: str
    reward: float
    version: str | None
    arm: str | None


class RecentRequests:
    """request id -> (version, arm) of the last `size` predictions of this process."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, request_id: str, version: str, arm: str) -> None:
        with self._lock:
            self._items[request_id] = (version, arm)
            if len(self._items) > self.size:
                self._items.popitem(last=False)

    def recall(self, request_id: str) -> tuple[str, str] | None:
        with self._lock:
            return self._items.get(request_id)


def parse_feedback(body: Any) -> Feedback:
    if not isinstance(body, dict):
        raise BadInput("body", 'must be a JSON object: {"request_id": "...", "reward": 1}')
    request_id, reward = body.get("request_id"), body.get("reward")
    if not isinstance(request_id, str) or not request_id:
        raise BadInput("request_id", "must be the request_id string of a prediction response")
    if not inputs.is_number(reward) or not 0 <= float(reward) <= 1:  # type: ignore[arg-type]
        raise BadInput("reward", f"must be a number from 0 to 1, got {reward!r}")
    version, arm = body.get("model_version"), body.get("arm")
    if arm is not None and arm not in (splitting.STABLE, splitting.CANARY):
        raise BadInput("arm", f"must be 'stable' or 'canary', got {arm!r}")
    return Feedback(request_id, float(reward), optional_str(version), arm)  # type: ignore[arg-type]


def optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def credit_of(feedback: Feedback, recent: RecentRequests, served: set[str]) -> tuple[str, str]:
    """The (version, arm) to credit: remembered here, else echoed by the client and served."""
    remembered = recent.recall(feedback.request_id)
    if remembered is not None:
        return remembered
    if feedback.version in served and feedback.arm is not None:
        return feedback.version, feedback.arm
    raise NotFound(
        f"request_id {feedback.request_id!r} is unknown to this pod: also send model_version "
        "and arm from the prediction response",
        field="request_id",
    )
