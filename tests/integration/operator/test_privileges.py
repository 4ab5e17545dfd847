"""Least privilege, proven on the real API server with the operator's own identity (the client
certificate of system:serviceaccount:<ns>:hotswap-operator, bound only by manifests/rbac):

- a spec change is refused by the admission policy (manifests/rbac/admission-policy.yaml), by
  patch and, were the Role widened to `update`, by update; the same calls changing metadata
  only, and status writes, are accepted (what kopf and the operator need);
- Secrets, another namespace and cluster-scoped objects are refused by RBAC.
Every refusal has a twin that is accepted, so a test that passes did not pass by accident.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from hotswap import resources
from hotswap.local import authorizing
from tests.integration.operator import flows

GROUP, VERSION = resources.GROUP, resources.VERSION
MODEL = "guarded"
VERSION_ID = "20261201_000000_0a0b0c0d"
POLICY_MESSAGE = "the hotswap operator never writes spec"
HOLD = "hotswap.dev/test-hold"  # a finalizer, as kopf adds and removes its own
POLICY_WAIT_SECONDS = 15.0  # the API server loads a new policy through an informer
CONFLICT_RETRIES = 10


def model_version(version_id: str = VERSION_ID) -> dict[str, Any]:
    return {
        "apiVersion": resources.API_VERSION,
        "kind": "ModelVersion",
        "metadata": {"name": f"{MODEL}-{version_id.replace('_', '-')}"},
        "spec": {
            "model": MODEL,
            "version": version_id,
            "artifactPath": f"{MODEL}/versions/{version_id}",
            "digest": "sha256:" + "cd" * 32,
            "format": "joblib",
        },
    }


def canary(name: str) -> dict[str, Any]:
    return {
        "apiVersion": resources.API_VERSION,
        "kind": "Canary",
        "metadata": {"name": name},
        "spec": {
            "model": MODEL,
            "version": model_version()["metadata"]["name"],
            "selector": {"matchLabels": {"app.kubernetes.io/name": "no-such-pods"}},
        },
    }


class Identity:
    """One client's custom-object calls in one namespace, returning (HTTP status, message)."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.api, self.namespace = api, namespace
        self.custom = client.CustomObjectsApi(api)

    def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[int, str]:
        try:
            method(*args, **kwargs)
        except client.ApiException as exc:
            return int(exc.status or 0), message_of(exc)
        return 200, "accepted"

    def patch(self, plural: str, name: str, body: dict[str, Any], **kw: Any) -> tuple[int, str]:
        found = self.custom.patch_namespaced_custom_object
        return self.call(found, GROUP, VERSION, self.namespace, plural, name, body, **kw)

    def patch_status(self, plural: str, name: str, body: dict[str, Any]) -> tuple[int, str]:
        found = self.custom.patch_namespaced_custom_object_status
        return self.call(found, GROUP, VERSION, self.namespace, plural, name, body)

    def replace(self, plural: str, body: dict[str, Any]) -> tuple[int, str]:
        name = body["metadata"]["name"]
        found = self.custom.replace_namespaced_custom_object
        return self.call(found, GROUP, VERSION, self.namespace, plural, name, body)

    def replace_latest(
        self, plural: str, name: str, change: Callable[[dict[str, Any]], None]
    ) -> tuple[int, str]:
        """Read, change, replace; a 409 (someone wrote between the read and the replace: the
        operator or kopf touching status or finalizers) is read again, as any client does, since
        the resourceVersion check answers before admission and would hide its verdict."""
        seen = (0, "not tried")
        for _ in range(CONFLICT_RETRIES):
            body = self.get(plural, name)
            change(body)
            seen = self.replace(plural, body)
            if seen[0] != 409:
                return seen
        return seen

    def delete(self, plural: str, name: str) -> tuple[int, str]:
        found = self.custom.delete_namespaced_custom_object
        return self.call(found, GROUP, VERSION, self.namespace, plural, name)

    def get(self, plural: str, name: str) -> dict[str, Any]:
        found = self.custom.get_namespaced_custom_object
        return dict(found(GROUP, VERSION, self.namespace, plural, name))


def message_of(exc: client.ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except ValueError:
        return str(exc.body or exc.reason)


@pytest.fixture(scope="module")
def operator_api(operator_kubeconfig: Path) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(operator_kubeconfig), persist_config=False)
    yield api
    api.close()


@pytest.fixture(scope="module")
def as_operator(operator_api: client.ApiClient, namespace: str) -> Identity:
    return Identity(operator_api, namespace)


@pytest.fixture(scope="module")
def as_admin(admin: client.ApiClient, namespace: str, crds: list[Path]) -> Identity:
    return Identity(admin, namespace)


@pytest.fixture(scope="module")
def guarded(as_admin: Identity, as_operator: Identity) -> Iterator[str]:
    """A ModelVersion and a Canary of a model no pod serves, created by the admin; once the
    policy is in effect (a dry-run spec patch by the operator is refused): the Canary's name."""
    name = f"guarded-{uuid.uuid4().hex[:6]}"
    custom = as_admin.custom
    for plural, body in (
        (resources.MODEL_VERSIONS, model_version()),
        (resources.CANARIES, canary(name)),
    ):
        custom.create_namespaced_custom_object(GROUP, VERSION, as_admin.namespace, plural, body)

    def refused() -> tuple[bool, tuple[int, str]]:
        seen = as_operator.patch(resources.CANARIES, name, spec_change(), dry_run="All")
        return seen[0] == 403 and POLICY_MESSAGE in seen[1], seen

    what = f"the admission policy {authorizing.SPEC_GUARD} to refuse a dry-run spec patch"
    flows.until(refused, timeout=POLICY_WAIT_SECONDS, what=what)
    yield name
    as_admin.delete(resources.CANARIES, name)
    as_admin.delete(resources.MODEL_VERSIONS, model_version()["metadata"]["name"])


def spec_change() -> dict[str, Any]:
    return {"spec": {"version": model_version("20261201_000001_0a0b0c0d")["metadata"]["name"]}}


def expect_policy_refusal(seen: tuple[int, str], what: str) -> None:
    status, message = seen
    assert status == 403 and POLICY_MESSAGE in message, (
        f"{what}: expected 403 from {authorizing.SPEC_GUARD}, saw {status} {message!r}"
    )
    assert authorizing.SPEC_GUARD in message, f"{what}: the policy is not named in {message!r}"


def expect_accepted(seen: tuple[int, str], what: str) -> None:
    assert seen[0] == 200, f"{what}: expected it accepted, saw {seen}"


def expect_rbac_refusal(seen: tuple[int, str], what: str) -> None:
    status, message = seen
    assert status == 403 and "cannot" in message, f"{what}: expected RBAC's 403, saw {seen}"
    assert POLICY_MESSAGE not in message, f"{what}: refused by the policy, not RBAC: {message!r}"


def test_a_spec_patch_is_refused_and_a_metadata_patch_accepted(
    as_operator: Identity, as_admin: Identity, guarded: str
) -> None:
    before = as_admin.get(resources.CANARIES, guarded)["spec"]
    expect_policy_refusal(
        as_operator.patch(resources.CANARIES, guarded, spec_change()), "spec patch"
    )
    assert as_admin.get(resources.CANARIES, guarded)["spec"] == before, (
        "the refused patch left spec"
    )

    mark = uuid.uuid4().hex
    kept = as_admin.get(resources.CANARIES, guarded)["metadata"].get("finalizers") or []
    metadata = {"annotations": {"hotswap.dev/test-mark": mark}, "finalizers": [*kept, HOLD]}
    expect_accepted(
        as_operator.patch(resources.CANARIES, guarded, {"metadata": metadata}), "metadata"
    )
    stored = as_admin.get(resources.CANARIES, guarded)["metadata"]
    assert stored["annotations"]["hotswap.dev/test-mark"] == mark, stored
    assert HOLD in stored["finalizers"], stored
    released = {"metadata": {"finalizers": [f for f in stored["finalizers"] if f != HOLD]}}
    expect_accepted(as_operator.patch(resources.CANARIES, guarded, released), "finalizer removal")


def test_the_author_may_still_change_spec(as_admin: Identity, guarded: str) -> None:
    """The policy's premise: it binds the operator only; the user's spec writes go through."""
    expect_accepted(
        as_admin.patch(resources.CANARIES, guarded, spec_change()), "the admin's spec patch"
    )
    assert (
        as_admin.get(resources.CANARIES, guarded)["spec"]["version"]
        == (spec_change()["spec"]["version"])
    )
    restored = {"spec": {"version": model_version()["metadata"]["name"]}}
    expect_accepted(as_admin.patch(resources.CANARIES, guarded, restored), "restoring spec")


def test_status_writes_are_accepted_and_cannot_carry_spec(
    as_operator: Identity, as_admin: Identity, guarded: str
) -> None:
    before = as_admin.get(resources.CANARIES, guarded)["spec"]
    status = {"status": {"observedGeneration": 4242}}
    expect_accepted(as_operator.patch_status(resources.CANARIES, guarded, status), "status patch")
    smuggled = spec_change() | {"status": {"observedGeneration": 4343}}
    expect_accepted(
        as_operator.patch_status(resources.CANARIES, guarded, smuggled), "status with spec"
    )
    assert as_admin.get(resources.CANARIES, guarded)["spec"] == before, (
        "spec changed through /status"
    )
    mv = model_version()["metadata"]["name"]
    expect_accepted(
        as_operator.patch_status(
            resources.MODEL_VERSIONS, mv, {"status": {"observedGeneration": 7}}
        ),
        "ModelVersion status patch",
    )


def test_a_model_version_spec_is_refused_and_its_metadata_accepted(
    as_operator: Identity, guarded: str
) -> None:
    """The CRD's immutability rule answers first here (422): the policy is the second lock."""
    mv = model_version()["metadata"]["name"]
    status, message = as_operator.patch(resources.MODEL_VERSIONS, mv, {"spec": {"format": "skops"}})
    by_crd = status == 422 and "ModelVersion spec is immutable" in message
    by_policy = status == 403 and POLICY_MESSAGE in message
    assert by_crd or by_policy, f"expected the spec patch refused, saw {status} {message!r}"
    annotations = {"metadata": {"annotations": {"hotswap.dev/test-mark": uuid.uuid4().hex}}}
    expect_accepted(as_operator.patch(resources.MODEL_VERSIONS, mv, annotations), "MV annotation")


@pytest.fixture
def update_granted(admin: client.ApiClient, namespace: str) -> Iterator[None]:
    """The Role widened to `update` on Canaries, for one test (as a careless edit would)."""
    rbac = client.RbacAuthorizationV1Api(admin)
    name = f"widened-{uuid.uuid4().hex[:6]}"
    rule = {"apiGroups": [GROUP], "resources": [resources.CANARIES], "verbs": ["update"]}
    role = {"metadata": {"name": name}, "rules": [rule]}
    subject = {
        "kind": "ServiceAccount",
        "name": authorizing.SERVICE_ACCOUNT,
        "namespace": namespace,
    }
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
    binding = {"metadata": {"name": name}, "subjects": [subject], "roleRef": ref}
    rbac.create_namespaced_role(namespace, client.V1Role.model_validate(role))
    rbac.create_namespaced_role_binding(namespace, client.V1RoleBinding.model_validate(binding))
    yield
    rbac.delete_namespaced_role_binding(name, namespace)
    rbac.delete_namespaced_role(name, namespace)


def test_update_is_refused_by_rbac(as_operator: Identity, guarded: str) -> None:
    body = as_operator.get(resources.CANARIES, guarded)
    expect_rbac_refusal(
        as_operator.replace(resources.CANARIES, body), "update with the shipped Role"
    )


def test_a_spec_update_is_refused_even_with_update_granted(
    as_operator: Identity, as_admin: Identity, guarded: str, update_granted: None
) -> None:
    def mark(body: dict[str, Any]) -> None:
        body["metadata"].setdefault("annotations", {})["hotswap.dev/test-mark"] = "update"

    def metadata_update() -> tuple[bool, tuple[int, str]]:
        seen = as_operator.replace_latest(resources.CANARIES, guarded, mark)
        return seen[0] == 200, seen

    def change_spec(body: dict[str, Any]) -> None:
        body["spec"] |= spec_change()["spec"]

    flows.until(metadata_update, timeout=POLICY_WAIT_SECONDS, what="the widened Role in effect")
    expect_policy_refusal(
        as_operator.replace_latest(resources.CANARIES, guarded, change_spec), "spec update"
    )
    kept = as_admin.get(resources.CANARIES, guarded)["spec"]["version"]
    assert kept == model_version()["metadata"]["name"], f"spec.version changed to {kept}"


def test_secrets_are_refused_and_pods_listed(
    operator_api: client.ApiClient, admin: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(operator_api)
    secret = client.V1Secret.model_validate(
        {"metadata": {"name": f"kept-{uuid.uuid4().hex[:6]}"}, "stringData": {"k": "v"}}
    )
    name = client.CoreV1Api(admin).create_namespaced_secret(namespace, secret).metadata.name
    caller = Identity(operator_api, namespace)
    expect_rbac_refusal(caller.call(core.read_namespaced_secret, name, namespace), "get Secret")
    expect_rbac_refusal(caller.call(core.list_namespaced_secret, namespace), "list Secrets")
    expect_accepted(caller.call(core.list_namespaced_pod, namespace), "list pods (the twin)")


def test_another_namespace_is_refused(
    operator_api: client.ApiClient, admin: client.ApiClient, as_operator: Identity, guarded: str
) -> None:
    other = authorizing.create_namespace(admin, f"elsewhere-{uuid.uuid4().hex[:6]}")
    Identity(admin, other).custom.create_namespaced_custom_object(
        GROUP, VERSION, other, resources.CANARIES, canary(guarded)
    )
    there = Identity(operator_api, other)
    listing = there.custom.list_namespaced_custom_object
    expect_rbac_refusal(
        there.call(listing, GROUP, VERSION, other, resources.CANARIES), "list elsewhere"
    )
    annotate = {"metadata": {"annotations": {"hotswap.dev/test-mark": "x"}}}
    expect_rbac_refusal(there.patch(resources.CANARIES, guarded, annotate), "patch elsewhere")
    pods = client.CoreV1Api(operator_api).list_namespaced_pod
    expect_rbac_refusal(there.call(pods, other), "pods elsewhere")
    home = as_operator.custom.list_namespaced_custom_object
    twin = as_operator.call(home, GROUP, VERSION, as_operator.namespace, resources.CANARIES)
    expect_accepted(twin, "list in its own namespace")


def test_cluster_scoped_writes_are_refused(operator_api: client.ApiClient) -> None:
    caller = Identity(operator_api, "")
    namespace = client.V1Namespace.model_validate({"metadata": {"name": "operator-made"}})
    core = client.CoreV1Api(operator_api)
    expect_rbac_refusal(caller.call(core.create_namespace, namespace), "create a Namespace")
    admission = client.AdmissionregistrationV1Api(operator_api)
    unbind = admission.delete_validating_admission_policy_binding
    expect_rbac_refusal(caller.call(unbind, authorizing.SPEC_GUARD), "delete its own lock")
    role = client.V1ClusterRole.model_validate({"metadata": {"name": "operator-made"}, "rules": []})
    create_role = client.RbacAuthorizationV1Api(operator_api).create_cluster_role
    expect_rbac_refusal(caller.call(create_role, role), "create a ClusterRole")
    crds = client.ApiextensionsV1Api(operator_api).delete_custom_resource_definition
    expect_rbac_refusal(caller.call(crds, "canaries.hotswap.dev"), "delete the Canary CRD")
