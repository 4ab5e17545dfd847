"""The Kubernetes clients the operator uses besides kopf's own: one set per process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from kubernetes import client, config


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
