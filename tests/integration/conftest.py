"""One real control plane (etcd + kube-apiserver on 127.0.0.1) for the whole integration tier,
started by the same code as `hotswap cluster up` and stopped at the end of the session.

The binaries are built once by `make control-plane` (cached); a cold build from here would take
minutes, so the fixture says so up front."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from hotswap.cluster import building, clusters, starting, stopping


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
