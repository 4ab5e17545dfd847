"""Reading the cluster: the ModelVersion a Canary names, the ready pods its selector matches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubernetes.client import ApiException

from hotswap_operator import specs
from hotswap_operator.apis import Apis

MODEL_VERSIONS = "modelversions"
CANARIES = "canaries"


@dataclass(frozen=True)
class Pod:
    name: str
    ip: str
    admin_port: int


def get_model_version(apis: Apis, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        body = apis.custom.get_namespaced_custom_object(
            specs.GROUP, specs.VERSION, namespace, MODEL_VERSIONS, name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return dict(body)


def list_model_versions(apis: Apis, namespace: str, model: str) -> list[dict[str, Any]]:
    found = apis.custom.list_namespaced_custom_object(
        specs.GROUP,
        specs.VERSION,
        namespace,
        MODEL_VERSIONS,
        label_selector=f"{specs.MODEL_LABEL}={model}",
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
    raw = annotations.get(specs.ADMIN_PORT_ANNOTATION)
    port = int(raw) if raw and raw.isdigit() else default_port
    return Pod(name=pod.metadata.name, ip=pod.status.pod_ip, admin_port=port)
