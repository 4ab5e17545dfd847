"""Every call the operator makes to the Kubernetes API besides kopf's own watches: the clients,
reading (the ModelVersions a Canary names, the ready pods its selector matches) and writing
(status as merge patches on the status subresource, and events). The operator never writes spec.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from kubernetes import client, config
from kubernetes.client import ApiException

from hotswap import resources
from hotswap_operator.deciding import Event
from hotswap_operator.reloading import Pod

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Apis:
    core: Any  # client.CoreV1Api
    custom: Any  # client.CustomObjectsApi


@cache
def connect() -> Apis:
    """In a pod the service account; elsewhere the current kubeconfig context."""
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config()  # type: ignore[no-untyped-call]
    return Apis(core=client.CoreV1Api(), custom=client.CustomObjectsApi())


def get_model_version(apis: Apis, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        body = apis.custom.get_namespaced_custom_object(
            resources.GROUP, resources.VERSION, namespace, resources.MODEL_VERSIONS, name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return dict(body)


def list_model_versions(apis: Apis, namespace: str, model: str) -> list[dict[str, Any]]:
    found = apis.custom.list_namespaced_custom_object(
        resources.GROUP,
        resources.VERSION,
        namespace,
        resources.MODEL_VERSIONS,
        label_selector=f"{resources.MODEL_LABEL}={model}",
    )
    return list(found.get("items", []))


def list_ready_pods(
    apis: Apis, namespace: str, labels: dict[str, str], *, default_port: int
) -> list[Pod]:
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    found = apis.core.list_namespaced_pod(namespace, label_selector=selector)
    pods = [pod_of(item, default_port) for item in found.items if is_ready(item)]
    return sorted(pods, key=lambda pod: pod.name)


def is_ready(pod: Any) -> bool:
    if pod.metadata.deletion_timestamp is not None or not pod.status or not pod.status.pod_ip:
        return False
    conditions = pod.status.conditions or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def pod_of(pod: Any, default_port: int) -> Pod:
    annotations = pod.metadata.annotations or {}
    raw = annotations.get(resources.ADMIN_PORT_ANNOTATION)
    port = int(raw) if raw and raw.isdigit() else default_port
    return Pod(name=pod.metadata.name, ip=pod.status.pod_ip, admin_port=port)


def patch_status(
    apis: Apis, plural: str, namespace: str, name: str, status: dict[str, Any]
) -> dict[str, Any]:
    """Merge-patch status; returns the object as stored."""
    found = apis.custom.patch_namespaced_custom_object_status(
        resources.GROUP, resources.VERSION, namespace, plural, name, {"status": status}
    )
    return dict(found)


def post_event(apis: Apis, body: dict[str, Any], event: Event) -> None:
    """A core/v1 Event on the object; failing to post one is logged, never fatal."""
    meta = body["metadata"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    event_body = {
        "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
        "involvedObject": {
            "apiVersion": body.get("apiVersion", resources.API_VERSION),
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


def patch_status_if_there(
    apis: Apis, plural: str, namespace: str, name: str, status: dict[str, Any]
) -> None:
    """As `patch_status`, for an object that may be gone already (nothing to write then)."""
    try:
        patch_status(apis, plural, namespace, name, status)
    except ApiException as exc:
        if exc.status != 404:
            raise
