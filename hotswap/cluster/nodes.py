"""The identities of a real node on a local control plane (docs/node.md): a kubeconfig each for
the kubelet (`system:node:<node>`, group `system:nodes`), kube-controller-manager and
kube-scheduler, signed by the cluster's CA. `tools/node.sh` runs this module:

    python -m hotswap.cluster.nodes <cluster state dir> <node name> <output folder>
"""

from __future__ import annotations

import sys
from pathlib import Path

from hotswap.cluster import clusters, kubeconfigs

CONTROLLER_MANAGER = "system:kube-controller-manager"
SCHEDULER = "system:kube-scheduler"


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
    for path in write_kubeconfigs(cluster, argv[1], Path(argv[2])).values():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
