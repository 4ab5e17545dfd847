"""The operator's identity: manifests/rbac applied into a namespace (as kustomize renders it)
and a client-certificate kubeconfig that the API server authorizes exactly as that
ServiceAccount, so the operator runs with nothing more than its Role grants, and under the
admission policy that refuses any spec change it attempts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from hotswap.cluster import building, clusters, kubeconfigs

SERVICE_ACCOUNT = "hotswap-operator"
SPEC_GUARD = "hotswap-operator-never-writes-spec"  # the policy and its binding
Body = dict[str, Any]


def create_namespace(api: client.ApiClient, name: str) -> str:
    client.CoreV1Api(api).create_namespace(
        client.V1Namespace.model_validate({"metadata": {"name": name}})
    )
    return name


def read_rbac(folder: Path | None = None) -> list[Body]:
    """Every object of the files `folder`'s kustomization lists (manifests/rbac), in order."""
    folder = folder or building.repo_root() / "manifests" / "rbac"
    listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
    return [
        body for name in listed for body in yaml.safe_load_all((folder / name).read_text()) if body
    ]


def apply_rbac(api: client.ApiClient, namespace: str, *, folder: Path | None = None) -> None:
    """Create the ServiceAccount, Role and RoleBinding of `folder` (manifests/rbac) in
    `namespace`, and its cluster-scoped admission policy and binding (replaced when an earlier
    namespace of the same cluster created them: one policy serves every namespace)."""
    for body in read_rbac(folder):
        _create(api, namespace, body)


def _create(api: client.ApiClient, namespace: str, body: Body) -> None:
    kind = body["kind"]
    if kind in ("ServiceAccount", "Role", "RoleBinding"):
        _create_namespaced(api, namespace, body)
    elif kind in ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"):
        _create_admission(client.AdmissionregistrationV1Api(api), body)
    else:
        expected = "ServiceAccount, Role, RoleBinding or ValidatingAdmissionPolicy[Binding]"
        raise ValueError(f"manifests/rbac holds a {kind}: expected a {expected}")


def _create_namespaced(api: client.ApiClient, namespace: str, body: Body) -> None:
    body["metadata"]["namespace"] = namespace
    for subject in body.get("subjects", []):
        subject["namespace"] = namespace
    rbac = client.RbacAuthorizationV1Api(api)
    if body["kind"] == "ServiceAccount":
        account = client.V1ServiceAccount.model_validate(body)
        client.CoreV1Api(api).create_namespaced_service_account(namespace, account)
    elif body["kind"] == "Role":
        rbac.create_namespaced_role(namespace, client.V1Role.model_validate(body))
    else:
        rbac.create_namespaced_role_binding(namespace, client.V1RoleBinding.model_validate(body))


def _create_admission(admission: client.AdmissionregistrationV1Api, body: Body) -> None:
    if body["kind"] == "ValidatingAdmissionPolicy":
        _create_or_replace(
            client.V1ValidatingAdmissionPolicy.model_validate(body),
            admission.create_validating_admission_policy,
            admission.read_validating_admission_policy,
            admission.replace_validating_admission_policy,
        )
    else:
        _create_or_replace(
            client.V1ValidatingAdmissionPolicyBinding.model_validate(body),
            admission.create_validating_admission_policy_binding,
            admission.read_validating_admission_policy_binding,
            admission.replace_validating_admission_policy_binding,
        )


def _create_or_replace(model: Any, create: Any, read: Any, replace: Any) -> None:
    """A cluster-scoped object: created, or replaced at the stored resourceVersion."""
    try:
        create(model)
    except client.ApiException as exc:
        if exc.status != 409:
            raise
        model.metadata.resource_version = read(model.metadata.name).metadata.resource_version
        replace(model.metadata.name, model)


def service_account_user(namespace: str) -> str:
    return f"system:serviceaccount:{namespace}:{SERVICE_ACCOUNT}"


def create_operator_kubeconfig(cluster: clusters.Cluster, namespace: str, path: Path) -> Path:
    """A kubeconfig for system:serviceaccount:<namespace>:hotswap-operator and its groups."""
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]
    user = service_account_user(namespace)
    return kubeconfigs.create_for_user(cluster, path, user=user, groups=groups)
