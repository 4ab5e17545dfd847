"""Replicas registered as Pods by the test kubelet (`hotswap.cluster.kubelets`), so the operator
finds them by label as in a cluster and dials their admin port (annotation
`hotswap.resources.ADMIN_PORT_ANNOTATION`: every local replica has its own)."""

from __future__ import annotations

from hotswap import resources
from hotswap.cluster import kubelets
from hotswap.local import replicas


def labels_for(model: str) -> dict[str, str]:
    """The labels of a model's inference pods, as manifests/base gives them."""
    return {"app": "hotswap-inference", resources.MODEL_LABEL: model}


def register_replica(
    kubelet: kubelets.Kubelet, replica: replicas.Replica, *, labels: dict[str, str]
) -> None:
    """A Running, Ready Pod named after the replica, at its 127.0.0.x address."""
    ports = {"http": replica.port, "admin": replica.admin_port}
    register_pod(kubelet, replica.name, ip=replica.host, ports=ports, labels=labels)


def register_pod(
    kubelet: kubelets.Kubelet, name: str, *, ip: str, ports: dict[str, int], labels: dict[str, str]
) -> None:
    """A Running, Ready Pod at `ip` whose admin port (`ports["admin"]`) is annotated."""
    kubelet.add(name, ip=ip, labels=labels, ports=ports)
    annotation = {resources.ADMIN_PORT_ANNOTATION: str(ports["admin"])}
    kubelet.api.patch_namespaced_pod(
        name, kubelet.namespace, {"metadata": {"annotations": annotation}}
    )
