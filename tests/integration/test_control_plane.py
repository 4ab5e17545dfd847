"""The local control plane behaves as a cluster does for what the operator relies on: schema
validation of CRDs, a kopf operator writing status, pods with loopback IPs visible to a watch,
watches that survive an apiserver restart, and RBAC."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from hotswap.cluster import applying, clusters, kubeconfigs, kubelets, starting
from hotswap.local import replicas
from tests.integration import watching

GROUP, VERSION, PLURAL = "test.hotswap.dev", "v1", "widgets"

WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"{PLURAL}.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": PLURAL, "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "maximum": 10}
                                },
                            },
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                        },
                    }
                },
            }
        ],
    },
}

OPERATOR = """
import kopf

@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_):
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage()
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage()

@kopf.on.create("test.hotswap.dev", "v1", "widgets")
def created(spec, patch, **_):
    patch.status["observedSize"] = spec["size"]
"""


@pytest.fixture(scope="module")
def widget_crd(control_plane: clusters.Cluster, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Applied with `kubectl apply` (the wheel's kubectl) through the same path as `crds/`."""
    folder = tmp_path_factory.mktemp("crds")
    (folder / "widgets.yaml").write_text(json.dumps(WIDGET_CRD))
    assert applying.apply_crds(control_plane, folder) == [folder / "widgets.yaml"]
    return f"{PLURAL}.{GROUP}"


@pytest.fixture(scope="module")
def operator(
    widget_crd: str, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen[bytes]]:
    folder = tmp_path_factory.mktemp("operator")
    (folder / "operator.py").write_text(OPERATOR)
    argv = [sys.executable, "-m", "kopf", "run", "--standalone", "--namespace=default"]
    log = (folder / "kopf.log").open("wb")
    env = {"KUBECONFIG": str(kubeconfig), "PATH": str(Path(sys.executable).parent)}
    process = subprocess.Popen(
        [*argv, str(folder / "operator.py")], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    yield process
    process.terminate()
    process.wait(timeout=30)
    log.close()


def widget(name: str, size: int) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": size},
    }


def eventually(check: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    seen: Any = None
    while time.monotonic() < deadline:
        seen = check()
        if seen:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"expected {what} within {timeout:.0f}s; last saw {seen!r}")


def test_server_reports_its_real_version(kubeconfig: Path) -> None:
    out = subprocess.run(
        [str(applying.kubectl_path()), f"--kubeconfig={kubeconfig}", "version", "-o", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert json.loads(out)["serverVersion"]["gitVersion"].startswith("v1.37.")


def test_crd_rejects_an_object_violating_its_schema(
    widget_crd: str, api_client: client.ApiClient
) -> None:
    objects = client.CustomObjectsApi(api_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, widget("ok", 3))
    with pytest.raises(client.ApiException) as caught:
        objects.create_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, widget("too-big", 50)
        )
    assert caught.value.status == 422
    message = json.loads(caught.value.body)["message"]
    assert "spec.size" in message and "less than or equal to 10" in message, message


def test_kopf_operator_sees_a_create_and_writes_status(
    operator: subprocess.Popen[bytes], api_client: client.ApiClient
) -> None:
    objects = client.CustomObjectsApi(api_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, widget("seen", 4))
    status = eventually(
        lambda: _status(objects, "seen").get("observedSize"),
        timeout=60,
        what="status.observedSize written by the kopf operator",
    )
    assert status == 4


def test_pod_status_from_the_test_kubelet_is_visible_to_a_watch(core: client.CoreV1Api) -> None:
    port = replicas.free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.7", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with watching.Watcher(core, label_selector="app=kubelet-test") as watcher:
        kubelet = kubelets.Kubelet(core)
        labels = {"app": "kubelet-test"}
        kubelet.track("serving-1", server, ip="127.0.0.7", labels=labels, ports={"http": port})
        ready = watcher.wait_for(_ready_at("127.0.0.7"), what="pod Running and Ready at 127.0.0.7")
        assert ready["metadata"]["labels"] == labels
        server.terminate()
        watcher.wait_for(lambda event: event["type"] == "DELETED", what="pod DELETED")
    server.wait(timeout=10)


def test_watch_resumes_after_apiserver_restart(
    control_plane: clusters.Cluster, operator: subprocess.Popen[bytes], core: client.CoreV1Api
) -> None:
    with watching.Watcher(core, label_selector="app=restart-test", kind="config_map") as watcher:
        starting.restart_apiserver(control_plane)
        body = {"metadata": {"name": "after-restart", "labels": {"app": "restart-test"}}}
        fresh = config.new_client_from_config(str(control_plane.kubeconfig), persist_config=False)
        client.CoreV1Api(fresh).create_namespaced_config_map("default", body)
        watcher.wait_for(
            lambda event: event["object"]["metadata"]["name"] == "after-restart",
            what="the ConfigMap created after the restart",
        )
        assert watcher.reconnects >= 1
    objects = client.CustomObjectsApi(fresh)
    objects.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, widget("later", 7))
    eventually(
        lambda: _status(objects, "later").get("observedSize") == 7,
        timeout=60,
        what="the kopf operator (started before the restart) to handle a later create",
    )
    fresh.close()


def test_rbac_refuses_a_client_outside_its_narrow_role(
    control_plane: clusters.Cluster, core: client.CoreV1Api, tmp_path: Path
) -> None:
    rbac = client.RbacAuthorizationV1Api(core.api_client)
    rule = {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}
    role = {"metadata": {"name": "configmap-reader"}, "rules": [rule]}
    rbac.create_namespaced_role("default", role)
    subject = {"kind": "User", "name": "narrow-user", "apiGroup": "rbac.authorization.k8s.io"}
    role_ref = {"kind": "Role", "name": "configmap-reader", "apiGroup": "rbac.authorization.k8s.io"}
    binding = {"metadata": {"name": "narrow-user"}, "subjects": [subject], "roleRef": role_ref}
    rbac.create_namespaced_role_binding("default", binding)
    path = kubeconfigs.create_for_user(
        control_plane, tmp_path / "narrow", user="narrow-user", groups=["hotswap:testers"]
    )
    narrow_client = config.new_client_from_config(str(path), persist_config=False)
    narrow = client.CoreV1Api(narrow_client)
    eventually(
        lambda: _allowed(lambda: narrow.list_namespaced_config_map("default")),
        timeout=10,
        what="the narrow user to list configmaps in default (its Role)",
    )
    for outside in (
        lambda: narrow.list_namespaced_pod("default"),
        lambda: narrow.list_namespaced_config_map("kube-system"),
        lambda: narrow.create_namespaced_config_map("default", {"metadata": {"name": "nope"}}),
    ):
        with pytest.raises(client.ApiException) as caught:
            outside()
        assert caught.value.status == 403, caught.value.body
        assert 'User "narrow-user" cannot' in json.loads(caught.value.body)["message"]
    narrow_client.close()


def _status(objects: client.CustomObjectsApi, name: str) -> dict[str, Any]:
    body = objects.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, name)
    return dict(body.get("status") or {})


def _allowed(call: Callable[[], Any]) -> bool:
    try:
        call()
    except client.ApiException:
        return False
    return True


def _ready_at(ip: str) -> Callable[[dict[str, Any]], bool]:
    def check(event: dict[str, Any]) -> bool:
        status = event["object"].get("status") or {}
        conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
        return (
            status.get("phase") == "Running"
            and status.get("podIP") == ip
            and conditions.get("Ready") == "True"
        )

    return check


def test_project_crds_apply(control_plane: clusters.Cluster) -> None:
    """The CRDs in crds/ are accepted by a real apiserver (structural schema, CEL rules)."""
    try:
        applied = applying.apply_crds(control_plane)
    except applying.KubectlError as error:
        pytest.fail(f"expected crds/*.yaml to apply; the server said: {error}")
    if not applied:
        pytest.skip("crds/ holds no CRD yet")
