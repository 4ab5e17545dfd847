"""The operator's identity: manifests/rbac applied into a namespace (as kustomize renders it)
and a client-certificate kubeconfig that the API server authorizes exactly as that
ServiceAccount, so the operator runs with nothing more than its Role grants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from hotswap.cluster import building, clusters, kubeconfigs

SERVICE_ACCOUNT = "hotswap-operator"
RBAC_FILES = ("serviceaccount.yaml", "role.yaml", "rolebinding.yaml")


def create_namespace(api: client.ApiClient, name: str) -> str:
    client.CoreV1Api(api).create_namespace(
        client.V1Namespace.model_validate({"metadata": {"name": name}})
    )
    return name


def apply_rbac(api: client.ApiClient, namespace: str, *, folder: Path | None = None) -> None:
    """Create the ServiceAccount, Role and RoleBinding of `folder` (manifests/rbac) there."""
    folder = folder or building.repo_root() / "manifests" / "rbac"
    for name in RBAC_FILES:
        body: dict[str, Any] = yaml.safe_load((folder / name).read_text())
        body["metadata"]["namespace"] = namespace
        for subject in body.get("subjects", []):
            subject["namespace"] = namespace
        _create(api, namespace, body)


def _create(api: client.ApiClient, namespace: str, body: dict[str, Any]) -> None:
    kind = body["kind"]
    if kind == "ServiceAccount":
        client.CoreV1Api(api).create_namespaced_service_account(
            namespace, client.V1ServiceAccount.model_validate(body)
        )
    elif kind == "Role":
        client.RbacAuthorizationV1Api(api).create_namespaced_role(
            namespace, client.V1Role.model_validate(body)
        )
    elif kind == "RoleBinding":
        client.RbacAuthorizationV1Api(api).create_namespaced_role_binding(
            namespace, client.V1RoleBinding.model_validate(body)
        )
    else:
        expected = "ServiceAccount, Role or RoleBinding"
        raise ValueError(f"manifests/rbac holds a {kind}: expected a {expected}")


def service_account_user(namespace: str) -> str:
    return f"system:serviceaccount:{namespace}:{SERVICE_ACCOUNT}"


def create_operator_kubeconfig(cluster: clusters.Cluster, namespace: str, path: Path) -> Path:
    """A kubeconfig for system:serviceaccount:<namespace>:hotswap-operator and its groups."""
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]
    user = service_account_user(namespace)
    return kubeconfigs.create_for_user(cluster, path, user=user, groups=groups)
