"""One real control plane (etcd + kube-apiserver on 127.0.0.1) for the whole integration tier,
started by the same code as `hotswap cluster up` and stopped at the end of the session.

The binaries are built once by `make control-plane` (cached); a cold build from here would take
minutes, so the fixture says so up front."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from hotswap.cluster import applying, building, clusters, starting, stopping
from hotswap.local import environments


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[clusters.Cluster]:
    if not building.locate().present:
        print("\nbuilding kube-apiserver and etcd from Go modules (cold: ~10 min on 2 cores)")
    state_dir = tmp_path_factory.mktemp("cluster")
    cluster = starting.up(state_dir, apply_crds=False)  # test_project_crds_apply does
    yield cluster
    stopping.down(state_dir)


@pytest.fixture(scope="session")
def kubeconfig(control_plane: clusters.Cluster) -> Path:
    return control_plane.kubeconfig


@pytest.fixture
def api_client(kubeconfig: Path) -> Iterator[client.ApiClient]:
    """A fresh admin client per test (no pooled connection outlives an apiserver restart)."""
    api = config.new_client_from_config(config_file=str(kubeconfig), persist_config=False)
    yield api
    api.close()


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@contextlib.contextmanager
def operator_environment(
    control_plane: clusters.Cluster,
    api_client: client.ApiClient,
    workdir: Path,
    *,
    model: str,
    extra: dict[str, str] | None = None,
) -> Iterator[environments.Environment]:
    """A namespace of its own with the RBAC of manifests/rbac and the operator running as it
    (`extra` HOTSWAP_* settings on top), stopped afterwards; pods come from the test."""
    applying.apply_crds(control_plane)
    namespace = f"{model}-{uuid.uuid4().hex[:6]}"
    found = environments.prepare(
        workdir, control_plane, api_client, model=model, namespace=namespace, say=print
    )
    found.operator = environments.start_operator(found, namespace, extra=extra)
    try:
        yield found
    finally:
        found.operator.stop()
        found.kubelet.close()
