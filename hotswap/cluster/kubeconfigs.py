"""Client-certificate kubeconfigs with inline data (kopf, kubectl and the Python client read
`certificate-authority-data`, `client-certificate-data` and `client-key-data`).

Written as JSON, which is valid YAML, so no YAML library is needed."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from hotswap.cluster import certificates, clusters


def render(server: str, ca_pem: bytes, client: certificates.Pair, *, user: str) -> dict[str, Any]:
    name = "hotswap-local"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(client.cert_pem),
                    "client-key-data": _b64(client.key_pem),
                },
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
        "current-context": name,
        "preferences": {},
    }


def write(path: Path, config: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.touch(mode=0o600)
    temp.write_text(json.dumps(config, indent=2) + "\n")
    os.replace(temp, path)
    return path


def create_for_user(
    cluster: clusters.Cluster, path: Path, *, user: str, groups: list[str] | None = None
) -> Path:
    """A kubeconfig for any identity: RBAC sees `user` and `groups` (cert CN and O fields)."""
    ca = certificates.read(cluster.pki, "ca")
    client = certificates.issue_client(ca, user, groups)
    return write(path, render(cluster.server, ca.cert_pem, client, user=user))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
