"""The node tier: the real manifests (manifests/overlays/node) on a real kubelet, containerd and
runc started by tools/node.sh on the local control plane. docs/node.md."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.unit.shipping import kustomizing

from . import nodes


@dataclass(frozen=True)
class Deployed:
    kubeconfig: Path
    reload_token: str


@pytest.fixture(scope="session")
def kubeconfig() -> Iterator[Path]:
    """`tools/node.sh up` (builds what is missing), then `down` unless HOTSWAP_NODE_KEEP=1:
    also when `up` or a test failed, so nothing stays running."""
    try:
        with nodes.stage("node up (builds cached)"):
            done = subprocess.run(["bash", str(nodes.SCRIPT), "up"], check=False)
        assert done.returncode == 0, "tools/node.sh up failed: see its output above"
        env = subprocess.run(
            ["bash", str(nodes.SCRIPT), "env"], capture_output=True, text=True, check=True
        )
        yield Path(env.stdout.split("=", 1)[1].strip())
    finally:
        if os.environ.get("HOTSWAP_NODE_KEEP") != "1":
            with nodes.stage("node down"):
                subprocess.run(["bash", str(nodes.SCRIPT), "down"], check=False)


@pytest.fixture(scope="session")
def deployed(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    """`kubectl apply -k manifests/overlays/node` from a copy of the tree holding this run's
    reload token and feedback key (the generators' files are never written into the repo)."""
    manifests = kustomizing.copy_tree(tmp_path_factory.mktemp("tree"))
    token = (manifests / "base" / "reload-token").read_text().strip()
    overlay = manifests / "overlays" / "node"
    with nodes.stage("kubectl apply -k manifests/overlays/node"):
        nodes.kubectl(kubeconfig, "apply", "--server-side", "-k", str(overlay), timeout=180)
    return Deployed(kubeconfig, token)
