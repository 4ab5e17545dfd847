"""Given / When / Then helpers for the operator's integration tests (Argo Rollouts' e2e idiom):
apply objects, wait for a condition or a status (`hotswap.local.objects`), read what pods
serve."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from hotswap.local import objects, registering

TOKEN = "integration-reload-token"
MODEL = "intent"
LABELS = registering.labels_for(MODEL)


# The helpers live with the local environment (`hotswap.local`); the tests name them here.
Cluster = objects.Namespace
until, eventually, condition = objects.until, objects.eventually, objects.condition
wait_for_condition, wait_for_status = objects.wait_for_condition, objects.wait_for_status


def admin_status(ip: str, port: int) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://{ip}:{port}/admin/status", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return dict(json.loads(response.read()))


def predict(ip: str, port: int, text: str = "I want to book a flight") -> tuple[int, str, str]:
    """(HTTP status, X-Model-Version, X-Model-Arm) of one prediction."""
    body = json.dumps({"input": text}).encode()
    request = urllib.request.Request(
        f"http://{ip}:{port}/predict", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            headers = response.headers
            return (
                response.status,
                headers.get("X-Model-Version", ""),
                headers.get("X-Model-Arm", ""),
            )
    except urllib.error.HTTPError as exc:
        return exc.code, "", ""
