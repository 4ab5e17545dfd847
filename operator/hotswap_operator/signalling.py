"""The reload protocol, operator side: POST /admin/reload and GET /admin/status on each pod.

Requests go out in parallel (one thread each, bounded); a pod that does not answer is reported,
never waited for beyond the timeout.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hotswap_operator import faults
from hotswap_operator.finding import Pod

POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="signal")


@dataclass(frozen=True)
class Reply:
    pod: Pod
    code: int  # HTTP status; 0 when the pod could not be reached
    body: dict[str, Any]
    error: str | None = None


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
    request = urllib.request.Request(
        f"http://{pod.ip}:{pod.admin_port}{path}",
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token or ''}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(pod, response.status, parse(response.read()))
    except urllib.error.HTTPError as exc:
        body = parse(exc.read())
        return Reply(pod, exc.code, body, error=f"HTTP {exc.code}: {describe(body)}")
    except (OSError, ValueError) as exc:
        return Reply(pod, 0, {}, error=f"unreachable at {pod.ip}:{pod.admin_port}: {exc}")


def parse(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return {"error": raw[:200].decode(errors="replace")}
    return body if isinstance(body, dict) else {"body": body}


def describe(body: dict[str, Any]) -> str:
    return str(body.get("reason") or body.get("message") or body.get("error") or body)
