"""Bring a local control plane down: stop exactly the processes `up` started, remove their data."""

from __future__ import annotations

import shutil
from pathlib import Path

from hotswap.cluster import clusters, supervising

# Stop order: the apiserver before the etcd it writes to.
ORDER = ("kube-apiserver", "etcd")


def down(state_dir: Path, *, keep_logs: bool = False) -> list[str]:
    """Stop the recorded servers still running as started; returns the names stopped."""
    cluster = clusters.load(state_dir)
    stopped = []
    for name in sorted(cluster.processes, key=_rank):
        process = cluster.processes[name]
        if supervising.is_alive(process):
            supervising.stop(process)
            stopped.append(name)
    if keep_logs:
        for path in (cluster.etcd_data, cluster.pki):
            shutil.rmtree(path, ignore_errors=True)
        cluster.kubeconfig.unlink(missing_ok=True)
        cluster.state_file.unlink(missing_ok=True)
    else:
        shutil.rmtree(state_dir, ignore_errors=True)
    return stopped


def _rank(name: str) -> int:
    return ORDER.index(name) if name in ORDER else -1
