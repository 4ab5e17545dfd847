"""`python -m hotswap_operator [kopf run flags]`: one active operator (standalone, no peering).

Watches the namespace given by --namespace, else HOTSWAP_NAMESPACE, else all namespaces.
"""

from __future__ import annotations

import os
import sys

from kopf import cli as kopf_cli


def argv_for(args: list[str]) -> list[str]:
    scope = (
        []
        if any(a.startswith(("--namespace", "-n", "--all-namespaces", "-A")) for a in args)
        else (
            [f"--namespace={os.environ['HOTSWAP_NAMESPACE']}"]
            if os.environ.get("HOTSWAP_NAMESPACE")
            else ["--all-namespaces"]
        )
    )
    return ["run", "--standalone", *scope, *liveness(), "-m", "hotswap_operator.handlers", *args]


def liveness() -> list[str]:
    """kopf's /healthz: HOTSWAP_OPERATOR_LIVENESS (a URL), in a pod :8080 by default."""
    url = os.environ.get("HOTSWAP_OPERATOR_LIVENESS")
    if url is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        url = "http://0.0.0.0:8080/healthz"
    return [f"--liveness={url}"] if url else []


def main(args: list[str] | None = None) -> int:
    kopf_cli.main(argv_for(list(sys.argv[1:] if args is None else args)), standalone_mode=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
