"""A test "kubelet": Pod objects for processes that tests run on 127.0.0.x, so an operator finds
them as in a cluster. It creates a Pod with the given labels, patches its status (Running,
podIP/podIPs, Ready) and deletes it (grace period 0) when the process stops.

Nothing here runs containers: the Pod's image is a label for humans only."""

from __future__ import annotations

import datetime
import subprocess
import threading
from typing import Any

from kubernetes import client

NODE_NAME = "hotswap-local"
STRATEGIC = "application/strategic-merge-patch+json"
READY_CONDITIONS = ("PodScheduled", "Initialized", "ContainersReady", "Ready")


def pod_manifest(name: str, *, labels: dict[str, str], ports: dict[str, int]) -> dict[str, Any]:
    container = {
        "name": "inference",
        "image": "hotswap/local-process",
        "ports": [{"name": n, "containerPort": p} for n, p in ports.items()],
    }
    spec = {"nodeName": NODE_NAME, "containers": [container]}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
    }


def running_status(ip: str, *, now: datetime.datetime) -> dict[str, Any]:
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    conditions = [
        {"type": kind, "status": "True", "lastTransitionTime": stamp} for kind in READY_CONDITIONS
    ]
    container = {
        "name": "inference",
        "image": "hotswap/local-process",
        "imageID": "",
        "ready": True,
        "started": True,
        "restartCount": 0,
        "state": {"running": {"startedAt": stamp}},
    }
    return {
        "phase": "Running",
        "hostIP": "127.0.0.1",
        "hostIPs": [{"ip": "127.0.0.1"}],
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": stamp,
        "conditions": conditions,
        "containerStatuses": [container],
    }


class Kubelet:
    """Pods for local processes in one namespace; `close()` deletes every Pod it created."""

    def __init__(self, api: client.CoreV1Api, *, namespace: str = "default") -> None:
        self.api, self.namespace = api, namespace
        self.pods: set[str] = set()
        self._lock = threading.Lock()

    def add(
        self, name: str, *, ip: str, labels: dict[str, str], ports: dict[str, int] | None = None
    ) -> None:
        """Create the Pod and report it Running and Ready at `ip` (a 127.0.0.x address)."""
        manifest = pod_manifest(name, labels=labels, ports=ports or {})
        self.api.create_namespaced_pod(self.namespace, client.V1Pod.model_validate(manifest))
        with self._lock:
            self.pods.add(name)
        now = datetime.datetime.now(datetime.UTC)
        body = {"status": running_status(ip, now=now)}
        self.api.patch_namespaced_pod_status(name, self.namespace, body, _content_type=STRATEGIC)

    def track(self, name: str, process: subprocess.Popen[bytes], **pod: Any) -> threading.Thread:
        """`add` the Pod now and `remove` it once `process` exits."""
        self.add(name, **pod)

        def wait_then_remove() -> None:
            process.wait()
            self.remove(name)

        thread = threading.Thread(target=wait_then_remove, name=f"kubelet-{name}", daemon=True)
        thread.start()
        return thread

    def remove(self, name: str) -> None:
        with self._lock:
            if name not in self.pods:
                return
            self.pods.discard(name)
        try:
            self.api.delete_namespaced_pod(name, self.namespace, grace_period_seconds=0)
        except client.ApiException as error:
            if error.status != 404:
                raise

    def close(self) -> None:
        for name in sorted(self.pods):
            self.remove(name)
