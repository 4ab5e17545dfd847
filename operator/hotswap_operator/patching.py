"""Writing the cluster: status (merge patches on the status subresource) and events.

The operator never writes spec.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from kubernetes.client import ApiException

from hotswap_operator import specs
from hotswap_operator.apis import Apis
from hotswap_operator.decisions import Event

log = logging.getLogger(__name__)


def patch_status(
    apis: Apis, plural: str, namespace: str, name: str, status: dict[str, Any]
) -> dict[str, Any]:
    """Merge-patch status; returns the object as stored."""
    found = apis.custom.patch_namespaced_custom_object_status(
        specs.GROUP, specs.VERSION, namespace, plural, name, {"status": status}
    )
    return dict(found)


def post_event(apis: Apis, body: dict[str, Any], event: Event) -> None:
    """A core/v1 Event on the object; failing to post one is logged, never fatal."""
    meta = body["metadata"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    event_body = {
        "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
        "involvedObject": {
            "apiVersion": body.get("apiVersion", specs.API_VERSION),
            "kind": body.get("kind"),
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid"),
        },
        "type": event.type,
        "reason": event.reason,
        "message": event.message[:1024],
        "source": {"component": "hotswap-operator"},
        "reportingComponent": "hotswap.dev/operator",
        "reportingInstance": "hotswap-operator",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "eventTime": now,
        "action": event.reason,
        "count": 1,
    }
    try:
        apis.core.create_namespaced_event(meta["namespace"], event_body)
    except ApiException as exc:
        log.warning("could not post event %s on %s: %s", event.reason, meta["name"], exc.reason)
