"""A local control plane made ready for a real node (docs/node.md): the ServiceAccount admission
plugin back on (it mounts each pod's token; the process-only tiers run without it, since no
controller creates ServiceAccounts there), and a kubeconfig each for the kubelet
(`system:node:<node>`, group `system:nodes`), kube-controller-manager and kube-scheduler, signed
by the cluster's CA. `tools/node.sh` runs this module:

    python -m hotswap.cluster.nodes <cluster state dir> <node name> <output folder>
"""

from __future__ import annotations

import sys
from pathlib import Path

from hotswap.cluster import clusters, kubeconfigs, starting, supervising

CONTROLLER_MANAGER = "system:kube-controller-manager"
SCHEDULER = "system:kube-scheduler"
NO_SERVICE_ACCOUNT_ADMISSION = "--disable-admission-plugins=ServiceAccount"


def enable_service_account_admission(cluster: clusters.Cluster) -> bool:
    """Restart kube-apiserver without the flag that disables ServiceAccount admission; False
    (nothing done) when it already runs without it."""
    process = cluster.processes["kube-apiserver"]
    if NO_SERVICE_ACCOUNT_ADMISSION not in process.argv:
        return False
    supervising.stop(process)
    argv = [arg for arg in process.argv if arg != NO_SERVICE_ACCOUNT_ADMISSION]
    starting.start_apiserver(cluster, argv, timeout=90.0)
    return True


def node_user(node: str) -> str:
    return f"system:node:{node}"


def write_kubeconfigs(cluster: clusters.Cluster, node: str, folder: Path) -> dict[str, Path]:
    """One kubeconfig per component, named after it; returns component -> path."""
    identities = {
        "kubelet": (node_user(node), ["system:nodes"]),
        "kube-controller-manager": (CONTROLLER_MANAGER, []),
        "kube-scheduler": (SCHEDULER, []),
    }
    return {
        component: kubeconfigs.create_for_user(
            cluster, folder / f"{component}.kubeconfig", user=user, groups=groups
        )
        for component, (user, groups) in identities.items()
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    cluster = clusters.load(Path(argv[0]))
    if enable_service_account_admission(cluster):
        print("kube-apiserver restarted with ServiceAccount admission")
    for path in write_kubeconfigs(cluster, argv[1], Path(argv[2])).values():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
