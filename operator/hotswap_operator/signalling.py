"""The reload protocol, operator side: POST /admin/reload and GET /admin/status on each pod.

Requests go out in parallel (one thread each, bounded); a pod that does not answer is reported,
never waited for beyond the timeout.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hotswap.store import signalling as protocol
from hotswap.store.reports import PodReport
from hotswap_operator import faults
from hotswap_operator.finding import Pod

POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="signal")


@dataclass(frozen=True)
class Reply:
    pod: Pod
    code: int  # HTTP status; 0 when the pod could not be reached
    body: dict[str, Any]
    error: str | None = None

    @functools.cached_property
    def report(self) -> PodReport | None:
        """The pod's report (a well-formed 200), parsed once however often a pass reads it."""
        return protocol.report_of(self.code, self.body)


def reload_pods(
    pods: Sequence[Pod], body: dict[str, Any], *, token: str | None, timeout: float
) -> list[Reply]:
    data = json.dumps(body).encode()
    replies: list[Reply] = []
    for reply in POOL.map(lambda pod: call(pod, "/admin/reload", data, token, timeout), pods):
        replies.append(reply)
        faults.reach(faults.PODS_SIGNALLED, done=len(replies), of=len(pods), pod=reply.pod.name)
    return replies


def read_pods(pods: Sequence[Pod], *, token: str | None, timeout: float) -> list[Reply]:
    return list(POOL.map(lambda pod: call(pod, "/admin/status", None, token, timeout), pods))


def call(pod: Pod, path: str, data: bytes | None, token: str | None, timeout: float) -> Reply:
    """One request, through the store's client of the protocol (`hotswap.store.signalling`)."""
    address = protocol.Address(pod.ip, pod.admin_port)
    reply = protocol.call(address, path, data, token=token or "", timeout=timeout)
    return Reply(pod, reply.code, reply.body, error=reply.error)
