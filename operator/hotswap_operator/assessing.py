"""What a pod's answer means against the declared routing: converged, behind, or failed."""

from __future__ import annotations

from typing import Any

from hotswap.store.routes import Routing
from hotswap_operator.signalling import Reply
from hotswap_operator.statuses import PodState
from hotswap_operator.verdicts import PodFailure

LOAD_FAILED = 422


def assess_pod(reply: Reply, routing: Routing | None) -> PodState:
    body = reply.body
    served = served_versions(body)
    return PodState(
        name=reply.pod.name,
        ip=reply.pod.ip,
        versions=served,
        generation=int(body.get("generation") or 0) if reply.code == 200 else 0,
        ready=reply.code == 200 and routing is not None and reports(body, routing),
        error=reply.error or last_error(body, routing),
    )


def reports(body: dict[str, Any], routing: Routing) -> bool:
    """The pod serves exactly the declared routing, at its generation."""
    canary = body.get("canary") or None
    return (
        body.get("generation") == routing.generation
        and (body.get("stable") or {}).get("version") == routing.stable.version
        and (canary or {}).get("version") == (routing.canary.version if routing.canary else None)
        and body.get("weight", 0) == routing.weight
    )


def served_versions(body: dict[str, Any]) -> list[str]:
    arms = [body.get("stable"), body.get("canary")]
    return [str(arm["version"]) for arm in arms if isinstance(arm, dict) and "version" in arm]


def last_error(body: dict[str, Any], routing: Routing | None) -> str | None:
    error = body.get("lastError")
    if not isinstance(error, dict) or routing is None:
        return None
    if error.get("generation") != routing.generation:
        return None
    return f"{error.get('version')}: {error.get('reason')}"


def failure_of(reply: Reply, routing: Routing | None) -> PodFailure | None:
    """A pod that could not load a version of the declared routing (it still serves the old)."""
    body = reply.body
    if reply.code == LOAD_FAILED and body.get("error") == "load_failed":
        return PodFailure(reply.pod.name, str(body.get("version")), str(body.get("reason")))
    error = body.get("lastError")
    if not isinstance(error, dict) or routing is None or reply.code != 200:
        return None
    if error.get("generation") == routing.generation and not reports(body, routing):
        return PodFailure(reply.pod.name, str(error.get("version")), str(error.get("reason")))
    return None
